// Feedback on replies (/api/messages/{id}/feedback) and the admin view of it (/api/admin/feedback).
import { inPath, unwrap, type ApiClient } from "./client";
import type { components, paths } from "./schema";

export type FeedbackIn = components["schemas"]["FeedbackIn"];
export type FeedbackQuery = NonNullable<paths["/api/admin/feedback"]["get"]["parameters"]["query"]>;

export const rateReply = (client: ApiClient, messageId: number, body: FeedbackIn) =>
  unwrap(client.http.PUT("/api/messages/{message_id}/feedback", { ...inPath({ message_id: messageId }), body }));

export const withdrawRating = (client: ApiClient, messageId: number) =>
  unwrap(client.http.DELETE("/api/messages/{message_id}/feedback", inPath({ message_id: messageId })));

export const listFeedback = (client: ApiClient, query: FeedbackQuery) =>
  unwrap(client.http.GET("/api/admin/feedback", { params: { query } }));

/** The CSV export, fetched with the bearer token (a plain link would carry none). */
export async function exportFeedback(client: ApiClient, query: FeedbackQuery): Promise<Blob> {
  // openapi-fetch has read the body into `data` already
  const { data, response } = await client.http.GET("/api/admin/feedback/export", { params: { query }, parseAs: "blob" });
  if (!response.ok || !data) throw new Error(`export failed (${response.status})`);
  return data;
}
