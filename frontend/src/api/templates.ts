// Prompt templates and their few-shot examples: /api/templates.
import { inPath, unwrap, type ApiClient } from "./client";
import type { ExampleIn, TemplateCreate, TemplateUpdate } from "./types";

const template = (id: number) => inPath({ template_id: id });

export const listTemplates = (client: ApiClient) => unwrap(client.http.GET("/api/templates"));

export const createTemplate = (client: ApiClient, body: TemplateCreate) =>
  unwrap(client.http.POST("/api/templates", { body }));

export const updateTemplate = (client: ApiClient, id: number, body: TemplateUpdate) =>
  unwrap(client.http.PATCH("/api/templates/{template_id}", { ...template(id), body }));

export const replaceExamples = (client: ApiClient, id: number, examples: ExampleIn[]) =>
  unwrap(client.http.PUT("/api/templates/{template_id}/examples", { ...template(id), body: { examples } }));

export const setDefaultTemplate = (client: ApiClient, id: number) =>
  unwrap(client.http.POST("/api/templates/{template_id}/default", template(id)));

export const deleteTemplate = (client: ApiClient, id: number) =>
  unwrap(client.http.DELETE("/api/templates/{template_id}", template(id)));

/** A template as the editor holds it: every field, its examples in order, and no id while new. */
export type TemplateDraft = Required<TemplateCreate> & { id: number | null };

/** Creates or updates the template, then replaces its examples; answers the template as stored. */
export async function saveTemplate(client: ApiClient, draft: TemplateDraft) {
  const { id, examples, ...fields } = draft;
  const saved = id === null ? await createTemplate(client, fields) : await updateTemplate(client, id, fields);
  return replaceExamples(client, saved.id, examples);
}
