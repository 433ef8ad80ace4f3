// Usage (yours and, for admins, everyone's), token budgets and the audit log; CSV exports as files.
import { inPath, unwrap, type ApiClient } from "./client";
import { readableError } from "./errors";
import type { AuditQuery, BudgetIn, UsageQuery } from "./types";

export const fetchMyUsage = (client: ApiClient, query: UsageQuery = {}) =>
  unwrap(client.http.GET("/api/usage", { params: { query } }));

export const fetchAllUsage = (client: ApiClient, query: UsageQuery = {}) =>
  unwrap(client.http.GET("/api/admin/usage", { params: { query } }));

export const listBudgets = (client: ApiClient) => unwrap(client.http.GET("/api/admin/budgets"));

export const setDefaultBudget = (client: ApiClient, body: BudgetIn) =>
  unwrap(client.http.PUT("/api/admin/budgets/default", { body }));

export const setUserBudget = (client: ApiClient, userId: number, body: BudgetIn) =>
  unwrap(client.http.PUT("/api/admin/budgets/users/{user_id}", { ...inPath({ user_id: userId }), body }));

export const clearUserBudget = (client: ApiClient, userId: number) =>
  unwrap(client.http.DELETE("/api/admin/budgets/users/{user_id}", inPath({ user_id: userId })));

export const listAudit = (client: ApiClient, query: AuditQuery = {}) =>
  unwrap(client.http.GET("/api/admin/audit", { params: { query } }));

/** Saves a CSV answer as a file in the browser (the call carries the bearer token, a link would not). */
async function download(pending: Promise<{ data?: Blob; error?: unknown; response: Response }>, name: string) {
  const { data, error, response } = await pending;
  if (!response.ok || !data) throw readableError(response.status, error);
  const url = URL.createObjectURL(data);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(url);
}

export const exportUsage = (client: ApiClient, query: UsageQuery = {}) =>
  download(client.http.GET("/api/admin/usage/export", { params: { query }, parseAs: "blob" }), "usage.csv");

export const exportAudit = (client: ApiClient, query: AuditQuery = {}) =>
  download(client.http.GET("/api/admin/audit/export", { params: { query }, parseAs: "blob" }), "audit-log.csv");
