// Administration: the accounts, and the system's queues and workers (polled).
import { fetchSystem, listUsers, updateUser } from "../api/admin";
import type { UserOut, UserPatch } from "../api/types";
import { editItems, replaceById, useApiMutation, useApiQuery } from "./cache";

const SYSTEM_REFRESH_MS = 5000;
export const adminKeys = { users: ["admin", "users"] as const, system: ["admin", "system"] as const };

export const useUsers = () => useApiQuery(adminKeys.users, listUsers);

export const useUpdateUser = () =>
  useApiMutation(
    (client, { id, patch }: { id: number; patch: UserPatch }) => updateUser(client, id, patch),
    (queryClient, changed: UserOut) => editItems(queryClient, adminKeys.users, replaceById(changed)),
  );

export const useSystem = () => useApiQuery(adminKeys.system, fetchSystem, { refetchInterval: SYSTEM_REFRESH_MS });
