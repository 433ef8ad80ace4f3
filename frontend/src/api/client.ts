// A small fetch wrapper: bearer tokens kept in localStorage, silent refresh on expiry or 401,
// and every failure turned into an ApiError with a message a person can read.
import type { AccessToken, TokenPair } from "./types";

const TOKENS_KEY = "qc.tokens";
const REFRESH_MARGIN_S = 60;

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

interface Tokens {
  access_token: string;
  refresh_token: string;
}

export function tokenExpiry(token: string): number | null {
  try {
    const payload = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return typeof payload.exp === "number" ? payload.exp : null;
  } catch {
    return null;
  }
}

export function readableError(status: number, body: unknown): ApiError {
  const envelope = (body as { error?: { code?: string; message?: string; details?: unknown } })
    ?.error;
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

type Listener = () => void;

export class ApiClient {
  private tokens: Tokens | null;
  private refreshing: Promise<string | null> | null = null;
  private listeners = new Set<Listener>();

  constructor(private storage: Storage = localStorage, private fetchImpl: typeof fetch = (...a) => fetch(...a)) {
    const raw = storage.getItem(TOKENS_KEY);
    this.tokens = raw ? (JSON.parse(raw) as Tokens) : null;
  }

  get loggedIn(): boolean {
    return this.tokens !== null;
  }

  onAuthChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setTokens(tokens: Tokens | null): void {
    this.tokens = tokens;
    if (tokens) this.storage.setItem(TOKENS_KEY, JSON.stringify(tokens));
    else this.storage.removeItem(TOKENS_KEY);
    this.listeners.forEach((l) => l());
  }

  /** A usable access token, refreshed first when it is about to expire; null when logged out. */
  async accessToken(forceRefresh = false): Promise<string | null> {
    if (!this.tokens) return null;
    const exp = tokenExpiry(this.tokens.access_token);
    const stale = exp !== null && exp - Date.now() / 1000 < REFRESH_MARGIN_S;
    if (forceRefresh || stale) return this.refresh();
    return this.tokens.access_token;
  }

  private refresh(): Promise<string | null> {
    if (!this.refreshing) {
      this.refreshing = this.doRefresh().finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  private async doRefresh(): Promise<string | null> {
    const tokens = this.tokens;
    if (!tokens) return null;
    let response: Response;
    try {
      response = await this.fetchImpl("/api/auth/refresh", {
        method: "POST",
        headers: { Authorization: `Bearer ${tokens.refresh_token}` },
      });
    } catch {
      throw readableError(0, null);
    }
    if (!response.ok) {
      this.setTokens(null); // the refresh token expired or was revoked: log in again
      return null;
    }
    const body = (await response.json()) as AccessToken;
    this.setTokens({ ...tokens, access_token: body.access_token });
    return body.access_token;
  }

  async request<T>(method: string, path: string, body?: unknown, auth = true): Promise<T> {
    const send = async (token: string | null): Promise<Response> => {
      const headers: Record<string, string> = {};
      let payload: BodyInit | undefined;
      if (body instanceof FormData) payload = body;
      else if (body !== undefined) {
        headers["Content-Type"] = "application/json";
        payload = JSON.stringify(body);
      }
      if (token) headers.Authorization = `Bearer ${token}`;
      try {
        return await this.fetchImpl(path, { method, headers, body: payload });
      } catch {
        throw readableError(0, null);
      }
    };
    let response = await send(auth ? await this.accessToken() : null);
    if (response.status === 401 && auth && this.tokens) {
      const fresh = await this.accessToken(true);
      if (fresh) response = await send(fresh);
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    if (!response.ok) {
      if (response.status === 401 && auth) this.setTokens(null);
      throw readableError(response.status, parsed);
    }
    return parsed as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }
  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>("POST", path, body);
  }
  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>("PATCH", path, body);
  }
  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>("PUT", path, body);
  }
  delete(path: string): Promise<void> {
    return this.request<void>("DELETE", path);
  }

  async login(username: string, password: string): Promise<void> {
    const tokens = await this.request<TokenPair>("POST", "/api/auth/login", { username, password }, false);
    this.setTokens(tokens);
  }

  async logout(): Promise<void> {
    const token = this.tokens?.access_token;
    this.setTokens(null);
    if (token) {
      await this.fetchImpl("/api/auth/logout", {
        method: "POST",
        headers: { Authorization: `Bearer ${token}` },
      }).catch(() => undefined);
    }
  }
}

export const api = new ApiClient();
