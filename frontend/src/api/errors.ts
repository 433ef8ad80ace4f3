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
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export function readableError(status: number, body: unknown): ApiError {
  const envelope = (body as { error?: Envelope } | null)?.error;
  if (envelope?.message) {
    let message = envelope.message;
    if (Array.isArray(envelope.details) && envelope.details.length > 0) {
      const parts = envelope.details
        .map((d: { field?: string; message?: string }) =>
          d.field ? `${d.field}: ${d.message}` : String(d.message ?? ""),
        )
        .filter(Boolean);
      if (parts.length) message = `${message} (${parts.join("; ")})`;
    }
    return new ApiError(status, envelope.code ?? "error", message, envelope.details);
  }
  if (status === 0) return new ApiError(0, "network", "Cannot reach the server. Check your connection.");
  if (status >= 500) return new ApiError(status, "server", `The server had a problem (HTTP ${status}). Try again.`);
  return new ApiError(status, "http", `Request failed (HTTP ${status}).`);
}
