// Administration: accounts and the system's queues and workers, /api/admin/*.
import { inPath, unwrap, type ApiClient } from "./client";
import type { UserPatch } from "./types";

export const listUsers = (client: ApiClient) => unwrap(client.http.GET("/api/admin/users"));

export const updateUser = (client: ApiClient, id: number, body: UserPatch) =>
  unwrap(client.http.PATCH("/api/admin/users/{user_id}", { ...inPath({ user_id: id }), body }));

export const fetchSystem = (client: ApiClient) => unwrap(client.http.GET("/api/admin/system"));
