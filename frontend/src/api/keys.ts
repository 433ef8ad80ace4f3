// The user's API keys for /v1 and batches: /api/keys.
import { inPath, unwrap, type ApiClient } from "./client";

export const listKeys = (client: ApiClient) => unwrap(client.http.GET("/api/keys"));

/** The answer carries the key itself: the only time the server ever shows it. */
export const createKey = (client: ApiClient, name: string) =>
  unwrap(client.http.POST("/api/keys", { body: { name } }));

export const revokeKey = (client: ApiClient, id: number) =>
  unwrap(client.http.DELETE("/api/keys/{key_id}", inPath({ key_id: id })));
