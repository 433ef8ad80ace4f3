// API types come from the generated schema (npm run gen:api). The fallbacks below only apply
// while the server's spec lacks a schema that another part of the backend is still adding;
// once the spec has it, the generated type wins automatically.
import type { components } from "./schema";

type Schemas = components["schemas"];
type FromSpec<Name extends string, Fallback> = Name extends keyof Schemas ? Schemas[Name] : Fallback;

export type UserOut = Schemas["UserOut"];
export type TokenPair = Schemas["TokenPair"];
export type AccessToken = Schemas["AccessToken"];
export type SessionPage = Schemas["SessionPage"];
export type MessageList = Schemas["MessageList"];
export type ReplyQueued = Schemas["ReplyQueued"];
export type CancelResult = Schemas["CancelResult"];
export type MessageCreate = Schemas["MessageCreate"];
export type UserList = Schemas["UserList"];
export type UserPatch = Schemas["UserPatch"];
export type SystemOut = Schemas["SystemOut"];
export type ErrorBody = Schemas["Error"];

export type Citation = FromSpec<
  "Citation",
  {
    document_id: number;
    title: string;
    page?: number | null;
    heading?: string | null;
    chunk_index: number;
    snippet: string;
    score?: number | null;
  }
>;

export type SessionOut = Schemas["SessionOut"] & {
  use_knowledge_base?: boolean;
  template_id?: number | null;
};

export type MessageOut = Schemas["MessageOut"] & { citations?: Citation[] | null };

export type DocumentStatus = "queued" | "extracting" | "embedding" | "ready" | "error";

export type DocumentOut = FromSpec<
  "DocumentOut",
  {
    id: number;
    title: string;
    original_name: string;
    content_type: string;
    size_bytes: number;
    sha256: string;
    status: DocumentStatus;
    progress: number;
    chunks_done: number;
    chunk_count: number | null;
    error: string | null;
    created_at: string;
  }
>;

export type ExampleOut = FromSpec<
  "ExampleOut",
  { id: number; position: number; user_input: string; assistant_output: string }
>;

export type TemplateOut = FromSpec<
  "TemplateOut",
  {
    id: number;
    name: string;
    system_prompt: string;
    active: boolean;
    is_default: boolean;
    examples: ExampleOut[];
  }
>;

export interface ExampleIn {
  user_input: string;
  assistant_output: string;
}

export type MessageStatus = "queued" | "generating" | "done" | "cancelled" | "error";
export const FINAL_STATUSES: ReadonlySet<string> = new Set(["done", "cancelled", "error"]);
