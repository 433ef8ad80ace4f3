// Knowledge-base documents: /api/documents.
import { inPath, unwrap, type ApiClient } from "./client";

const document = (id: number) => inPath({ document_id: id });

export const listDocuments = (client: ApiClient) => unwrap(client.http.GET("/api/documents"));

/** Uploads files in the multipart field 'files'. */
export function uploadDocuments(client: ApiClient, files: File[]) {
  const form = new FormData();
  files.forEach((file) => form.append("files", file));
  // the spec types the binary parts as strings; the real files go out as the FormData itself
  // (openapi-fetch sends FormData unchanged, with its boundary)
  const body = { files: files.map((file) => file.name) };
  return unwrap(client.http.POST("/api/documents", { body, bodySerializer: () => form }));
}

export const reindexDocument = (client: ApiClient, id: number) =>
  unwrap(client.http.POST("/api/documents/{document_id}/reindex", document(id)));

export const deleteDocument = (client: ApiClient, id: number) =>
  unwrap(client.http.DELETE("/api/documents/{document_id}", document(id)));

export const documentFile = (client: ApiClient, id: number) =>
  unwrap(client.http.GET("/api/documents/{document_id}/file", { ...document(id), parseAs: "blob" }));
