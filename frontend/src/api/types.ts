// Names for the API's types. All of them are generated from the server's OpenAPI spec
// (scripts/dump_openapi.py writes openapi.json and schema.d.ts); none is written by hand.
import type { components, paths } from "./schema";

type Schemas = components["schemas"];

export type UserOut = Schemas["UserOut"];
export type TokenPair = Schemas["TokenPair"];
export type RegisterBody = Schemas["RegisterBody"];
export type SessionOut = Schemas["SessionOut"];
export type SessionCreate = Schemas["SessionCreate"];
export type SessionUpdate = Schemas["SessionUpdate"];
export type ImportedChats = Schemas["ImportedChats"];
export type MessageOut = Schemas["MessageOut"];
export type MessageList = Schemas["MessageList"];
export type MessageCreate = Schemas["MessageCreate"];
export type RegenerateBody = Schemas["RegenerateBody"];
export type ReplyQueued = Schemas["ReplyQueued"];
export type Citation = Schemas["Citation"];
export type UserPatch = Schemas["UserPatch"];
export type DocumentOut = Schemas["DocumentOut"];
export type DocumentList = Schemas["DocumentList"];
export type UploadResult = Schemas["UploadResult"];
export type RejectedFile = Schemas["RejectedFile"];
export type ChatFileOut = Schemas["ChatFileOut"];
export type ChatFileUpload = Schemas["ChatFileUpload"];
export type TemplateOut = Schemas["TemplateOut"];
export type TemplateCreate = Schemas["TemplateCreate"];
export type TemplateUpdate = Schemas["TemplateUpdate"];
export type ExampleIn = Schemas["ExampleIn"];
export type UsageQuery = NonNullable<paths["/api/admin/usage"]["get"]["parameters"]["query"]>;
export type MyUsage = Schemas["MyUsage"];
export type AdminUsage = Schemas["AdminUsage"];
export type DayUsage = Schemas["DayUsage"];
export type BudgetIn = Schemas["BudgetIn"];
export type BudgetList = Schemas["BudgetList"];
export type AuditQuery = NonNullable<paths["/api/admin/audit"]["get"]["parameters"]["query"]>;
export type AuditEventOut = Schemas["AuditEventOut"];
export type SearchHit = Schemas["SearchHit"];
export type Highlight = Schemas["Highlight"];
export type ShareOut = Schemas["ShareOut"];
export type SharedChat = Schemas["SharedChat"];
