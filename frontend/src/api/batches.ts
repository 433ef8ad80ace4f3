// Batch jobs: /api/batches (submit a JSONL file, follow, cancel, download results), /api/models.
import { inPath, unwrap, type ApiClient } from "./client";
import type { paths } from "./schema";

export type BatchOptions = NonNullable<paths["/api/batches"]["post"]["parameters"]["query"]>;

const batch = (id: number) => inPath({ batch_id: id });

export const listBatches = (client: ApiClient) =>
  unwrap(client.http.GET("/api/batches", { params: { query: { limit: 50 } } }));

export const listModels = (client: ApiClient) => unwrap(client.http.GET("/api/models"));

/** Uploads the JSONL file in the multipart field 'file'; the options fill what lines leave out. */
export function submitBatch(client: ApiClient, file: File, options: BatchOptions) {
  const form = new FormData();
  form.append("file", file);
  // the spec types the binary part as a string; the real file goes out as the FormData itself
  return unwrap(
    client.http.POST("/api/batches", { params: { query: options }, body: { file: file.name }, bodySerializer: () => form }),
  );
}

export const cancelBatch = (client: ApiClient, id: number) =>
  unwrap(client.http.POST("/api/batches/{batch_id}/cancel", batch(id)));

/** The finished items as JSONL (fetched with the bearer token: a plain link would carry none). */
export async function batchResults(client: ApiClient, id: number): Promise<Blob> {
  // openapi-fetch has read the body into `data` already
  const { data, response } = await client.http.GET("/api/batches/{batch_id}/results", { ...batch(id), parseAs: "blob" });
  if (!response.ok || !data) throw new Error(`download failed (${response.status})`);
  return data;
}
