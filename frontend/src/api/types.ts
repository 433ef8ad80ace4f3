// Names for the API's types. All of them are generated from the server's OpenAPI spec
// (scripts/dump_openapi.py writes openapi.json and schema.d.ts); none is written by hand.
import type { components } from "./schema";

type Schemas = components["schemas"];

export type UserOut = Schemas["UserOut"];
export type TokenPair = Schemas["TokenPair"];
export type RegisterBody = Schemas["RegisterBody"];
export type SessionOut = Schemas["SessionOut"];
export type SessionCreate = Schemas["SessionCreate"];
export type SessionUpdate = Schemas["SessionUpdate"];
export type MessageOut = Schemas["MessageOut"];
export type MessageList = Schemas["MessageList"];
export type MessageCreate = Schemas["MessageCreate"];
export type RegenerateBody = Schemas["RegenerateBody"];
export type ReplyQueued = Schemas["ReplyQueued"];
export type Citation = Schemas["Citation"];
export type UserPatch = Schemas["UserPatch"];
export type DocumentOut = Schemas["DocumentOut"];
export type DocumentList = Schemas["DocumentList"];
export type TemplateOut = Schemas["TemplateOut"];
export type TemplateCreate = Schemas["TemplateCreate"];
export type TemplateUpdate = Schemas["TemplateUpdate"];
export type ExampleIn = Schemas["ExampleIn"];
