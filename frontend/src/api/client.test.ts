import { ApiClient, ApiError, readableError } from "./client";

function jwt(expInSeconds: number): string {
  const payload = btoa(JSON.stringify({ exp: Math.floor(Date.now() / 1000) + expInSeconds }));
  return `x.${payload}.y`;
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

describe("ApiClient", () => {
  beforeEach(() => localStorage.clear());

  it("refreshes an expired access token silently and retries once", async () => {
    const fresh = jwt(1800);
    const calls: [string, string | undefined][] = [];
    const fetchImpl = vi.fn(async (url: RequestInfo | URL, init?: RequestInit) => {
      const auth = (init?.headers as Record<string, string>)?.Authorization;
      calls.push([String(url), auth]);
      if (url === "/api/auth/refresh") return json(200, { access_token: fresh, token_type: "bearer" });
      if (auth === `Bearer ${fresh}`) return json(200, { items: [] });
      return json(401, { error: { code: "unauthorized", message: "token expired" } });
    });
    const client = new ApiClient(localStorage, fetchImpl as typeof fetch);
    client.setTokens({ access_token: jwt(3600), refresh_token: "refresh-1" });
    await expect(client.get("/api/sessions")).resolves.toEqual({ items: [] });
    expect(calls.map((c) => c[0])).toEqual(["/api/sessions", "/api/auth/refresh", "/api/sessions"]);
    expect(calls[1][1]).toBe("Bearer refresh-1");
    expect(JSON.parse(localStorage.getItem("qc.tokens")!).access_token).toBe(fresh);
  });

  it("refreshes ahead of time when the access token is about to expire", async () => {
    const fetchImpl = vi.fn(async (url: RequestInfo | URL) =>
      url === "/api/auth/refresh" ? json(200, { access_token: jwt(1800) }) : json(200, {}),
    );
    const client = new ApiClient(localStorage, fetchImpl as typeof fetch);
    client.setTokens({ access_token: jwt(10), refresh_token: "r" });
    await client.get("/api/auth/me");
    expect(fetchImpl.mock.calls[0][0]).toBe("/api/auth/refresh");
  });

  it("logs out when the refresh token is refused", async () => {
    const fetchImpl = vi.fn(async () => json(401, { error: { code: "unauthorized", message: "token revoked" } }));
    const client = new ApiClient(localStorage, fetchImpl as typeof fetch);
    client.setTokens({ access_token: jwt(3600), refresh_token: "r" });
    const changes = vi.fn();
    client.onAuthChange(changes);
    await expect(client.get("/api/sessions")).rejects.toBeInstanceOf(ApiError);
    expect(client.loggedIn).toBe(false);
    expect(localStorage.getItem("qc.tokens")).toBeNull();
    expect(changes).toHaveBeenCalled();
  });
});

describe("readableError", () => {
  it("uses the server's message and the invalid fields", () => {
    const error = readableError(422, {
      error: { code: "invalid_input", message: "the request body is invalid", details: [{ field: "content", message: "must not be empty" }] },
    });
    expect(error.message).toBe("the request body is invalid (content: must not be empty)");
    expect(error.code).toBe("invalid_input");
  });

  it("explains network and server failures without jargon", () => {
    expect(readableError(0, null).message).toMatch(/Cannot reach the server/);
    expect(readableError(502, "<html>").message).toMatch(/server had a problem/);
  });
});
