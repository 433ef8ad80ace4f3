// Every failed call ends as an ApiError whose message a person can read: the server's own
// message from its JSON envelope {"error": {"code", "message", "details"}}, or a plain sentence.
import type { components } from "./schema";

type Envelope = Partial<components["schemas"]["Error"]["error"]>;

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public details?: unknown,
    /** Seconds the server asked to wait (Retry-After on 429 and 503), when it said. */
    public retryAfter: number | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** Retry-After in seconds: a number of seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterSeconds(header: string | null, now: number = Date.now()): number | null {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

interface Detail {
  field?: string;
  message?: string;
}

/** "max_tokens" → "Max tokens"; a nested field is named by its last part. */
export function fieldLabel(field: string): string {
  const last = field.split(/[.[\]]/).filter(Boolean).pop() ?? field;
  const words = last.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A validator's sentence without the validator's jargon ("Value error, ..."). */
const plain = (message: string) => message.replace(/^(Value|Assertion) error,\s*/, "");

/** Each invalid field's message, by field name, for a form to show beside the field. */
export function fieldErrors(error: unknown): Record<string, string> {
  const found: Record<string, string> = {};
  if (!(error instanceof ApiError) || !Array.isArray(error.details)) return found;
  for (const d of error.details as Detail[]) {
    if (d.field && d.message) found[d.field.split(".").pop() ?? d.field] ??= plain(d.message);
  }
  return found;
}

const GENERIC = "the request body is invalid";

export function readableError(status: number, body: unknown, retryAfter: number | null = null): ApiError {
  const envelope = (body as { error?: Envelope } | null)?.error;
  if (envelope?.message) {
    let message = envelope.message;
    const details = Array.isArray(envelope.details) ? (envelope.details as Detail[]) : [];
    const parts = details
      .filter((d) => d.message && d.message !== envelope.message)
      .map((d) => (d.field ? `${fieldLabel(d.field)}: ${plain(String(d.message))}` : plain(String(d.message))));
    if (parts.length) message = message.startsWith(GENERIC) ? parts.join("; ") : `${message} (${parts.join("; ")})`;
    return new ApiError(status, envelope.code ?? "error", message, envelope.details, retryAfter);
  }
  if (status === 0) return new ApiError(0, "network", "Cannot reach the server. Check your connection.");
  if (status >= 500) return new ApiError(status, "server", `The server had a problem (HTTP ${status}). Try again.`);
  return new ApiError(status, "http", `Request failed (HTTP ${status}).`);
}
