// The typed API client: openapi-fetch over the generated `paths`, with bearer tokens kept in
// localStorage and a middleware that adds them, refreshes them silently (one refresh at a time)
// before expiry or after a 401, and resends the request once.
import createClient, { type Client, type Middleware } from "openapi-fetch";
import { readableError, retryAfterSeconds } from "./errors";
import type { paths } from "./schema";
import type { TokenPair } from "./types";
import { rememberSignOut } from "../signedOut";

const TOKENS_KEY = "qc.tokens";
const REFRESH_MARGIN_S = 60;
/** Calls that carry no access token, and whose 401 is an answer rather than an expiry. */
/** What the sign-in page says of a refused refresh ("You were signed out: …"). */
export function signOutReason(serverMessage: string): string {
  if (serverMessage === "token expired") return "the login expired";
  if (serverMessage === "token revoked") return "this login was signed out";
  return serverMessage; // "this account was deactivated", "this account no longer exists"
}

const PUBLIC_PATHS: ReadonlySet<string> = new Set<keyof paths>([
  "/api/auth/config",
  "/api/auth/login",
  "/api/auth/oidc/exchange",
  "/api/auth/refresh",
  "/api/auth/register",
]);

type Tokens = Pick<TokenPair, "access_token" | "refresh_token">;
type Listener = () => void;
export type FetchImpl = (request: Request) => Promise<Response>;

export function tokenExpiry(token: string): number | null {
  try {
    const payload = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return typeof payload.exp === "number" ? payload.exp : null;
  } catch {
    return null;
  }
}

/** The data of a successful call; an ApiError with the server's message otherwise. */
export async function unwrap<T>(pending: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await pending;
  if (!response.ok) {
    throw readableError(response.status, error, retryAfterSeconds(response.headers.get("Retry-After")));
  }
  return data as T;
}

export class ApiClient {
  readonly http: Client<paths>;
  private tokens: Tokens | null;
  private refreshing: Promise<string | null> | null = null;
  private listeners = new Set<Listener>();
  /** A copy of each authenticated request in flight, by openapi-fetch's request id, to resend. */
  private resendable = new Map<string, Request>();

  constructor(
    private storage: Storage = localStorage,
    private fetchImpl: FetchImpl = (request) => fetch(request),
    baseUrl: string = window.location.origin,
  ) {
    const raw = storage.getItem(TOKENS_KEY);
    this.tokens = raw ? (JSON.parse(raw) as Tokens) : null;
    this.http = createClient<paths>({ baseUrl, fetch: (request) => this.send(request) });
    this.http.use(this.bearerAuth);
  }

  get loggedIn(): boolean {
    return this.tokens !== null;
  }

  onAuthChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setTokens(tokens: Tokens | null): void {
    if (tokens === null && this.tokens === null) return;
    this.tokens = tokens;
    if (tokens) this.storage.setItem(TOKENS_KEY, JSON.stringify(tokens));
    else this.storage.removeItem(TOKENS_KEY);
    this.listeners.forEach((l) => l());
  }

  /** Forgets the tokens and returns the refresh token they held, for the logout call: revoking
   *  it ends every access token minted from it, and it is still valid when the access token has
   *  expired. */
  signOut(): string | null {
    const token = this.tokens?.refresh_token ?? null;
    this.setTokens(null);
    return token;
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
    const { data, error, response } = await this.http.POST("/api/auth/refresh", {
      headers: { Authorization: `Bearer ${tokens.refresh_token}` },
    });
    if (!response.ok || !data) {
      // the refresh token expired or was revoked, or the account went: log in again, told why
      if (response.status === 401) rememberSignOut(signOutReason(readableError(401, error).message));
      this.setTokens(null);
      return null;
    }
    this.setTokens({ ...tokens, access_token: data.access_token });
    return data.access_token;
  }

  private async send(request: Request): Promise<Response> {
    try {
      return await this.fetchImpl(request);
    } catch {
      throw readableError(0, null);
    }
  }

  private readonly bearerAuth: Middleware = {
    onRequest: async ({ request, schemaPath, id }) => {
      // a public call, or one that brings its own token (refresh, logout), is sent as it is
      if (PUBLIC_PATHS.has(schemaPath) || request.headers.has("Authorization")) return undefined;
      const token = await this.accessToken();
      if (token) request.headers.set("Authorization", `Bearer ${token}`);
      this.resendable.set(id, request.clone());
      return request;
    },
    onResponse: async ({ response, id }) => {
      const copy = this.resendable.get(id);
      this.resendable.delete(id);
      if (!copy || response.status !== 401) return undefined;
      let answer = response;
      const fresh = this.tokens ? await this.accessToken(true) : null;
      if (fresh) {
        copy.headers.set("Authorization", `Bearer ${fresh}`);
        answer = await this.send(copy);
      }
      if (answer.status === 401) this.setTokens(null);
      return answer;
    },
    onError: ({ id }) => {
      this.resendable.delete(id);
    },
  };
}

/** The `params` of a call whose path has ids in it: inPath({ session_id: 3 }). */
export function inPath<P extends Record<string, number>>(path: P): { params: { path: P } } {
  return { params: { path } };
}
