// Names for the API's types. All of them are generated from the server's OpenAPI spec
// (scripts/dump_openapi.py writes openapi.json and schema.d.ts); none is written by hand.
import type { components } from "./schema";

type Schemas = components["schemas"];

export type UserOut = Schemas["UserOut"];
export type TokenPair = Schemas["TokenPair"];
export type AuthConfig = Schemas["AuthConfig"];
export type AccessToken = Schemas["AccessToken"];
export type SessionOut = Schemas["SessionOut"];
export type SessionPage = Schemas["SessionPage"];
export type SessionUpdate = Schemas["SessionUpdate"];
export type MessageOut = Schemas["MessageOut"];
export type MessageList = Schemas["MessageList"];
export type ReplyQueued = Schemas["ReplyQueued"];
export type CancelResult = Schemas["CancelResult"];
export type Citation = Schemas["Citation"];
export type UserList = Schemas["UserList"];
export type UserPatch = Schemas["UserPatch"];
export type SystemOut = Schemas["SystemOut"];
export type DocumentOut = Schemas["DocumentOut"];
export type DocumentList = Schemas["DocumentList"];
export type TemplateOut = Schemas["TemplateOut"];
export type TemplateList = Schemas["TemplateList"];
export type TemplateCreate = Schemas["TemplateCreate"];
export type ExampleIn = Schemas["ExampleIn"];
export type ExampleOut = Schemas["ExampleOut"];

export const FINAL_STATUSES: ReadonlySet<string> = new Set(["done", "cancelled", "error"]);
