// Usage reports, budgets and the audit log, cached per query; budget changes update the cached list.
import { keepPreviousData, type QueryClient } from "@tanstack/react-query";
import {
  clearUserBudget,
  fetchAllUsage,
  fetchMyUsage,
  listAudit,
  listBudgets,
  setDefaultBudget,
  setUserBudget,
} from "../api/usage";
import type { AuditQuery, BudgetIn, BudgetList, UsageQuery } from "../api/types";
import { useApiMutation, useApiQuery } from "./cache";

export const usageKeys = {
  mine: (query: UsageQuery) => ["usage", "mine", query] as const,
  all: (query: UsageQuery) => ["usage", "all", query] as const,
  budgets: ["admin", "budgets"] as const,
  audit: (query: AuditQuery) => ["admin", "audit", query] as const,
};

export const useMyUsage = (query: UsageQuery) =>
  useApiQuery(usageKeys.mine(query), (client) => fetchMyUsage(client, query), { placeholderData: keepPreviousData });

export const useAllUsage = (query: UsageQuery) =>
  useApiQuery(usageKeys.all(query), (client) => fetchAllUsage(client, query), { placeholderData: keepPreviousData });

export const useBudgets = () => useApiQuery(usageKeys.budgets, listBudgets);

const storeBudgets = (queryClient: QueryClient, list: BudgetList) =>
  queryClient.setQueryData(usageKeys.budgets, list);

export const useSetDefaultBudget = () =>
  useApiMutation((client, body: BudgetIn) => setDefaultBudget(client, body), storeBudgets);

export const useSetUserBudget = () =>
  useApiMutation(
    (client, { userId, body }: { userId: number; body: BudgetIn }) => setUserBudget(client, userId, body),
    storeBudgets,
  );

export const useClearUserBudget = () =>
  useApiMutation((client, userId: number) => clearUserBudget(client, userId), storeBudgets);

export const useAudit = (query: AuditQuery) =>
  useApiQuery(usageKeys.audit(query), (client) => listAudit(client, query), { placeholderData: keepPreviousData });
