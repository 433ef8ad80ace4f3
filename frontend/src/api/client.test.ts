import { fakeClient, jwt } from "../test/fakes";
import { fetchMe, logIn, logOut } from "./auth";
import { unwrap } from "./client";
import { ApiError, fieldErrors, readableError } from "./errors";
import { takeSignOutReason } from "../signedOut";

describe("ApiClient", () => {
  beforeEach(() => localStorage.clear());

  it("refreshes an expired access token silently and retries once", async () => {
    const fresh = jwt(1800);
    const { client, requests } = fakeClient((_, url, __, authorization) => {
      if (url === "/api/auth/refresh") return [200, { access_token: fresh, token_type: "bearer" }];
      if (authorization === `Bearer ${fresh}`) return [200, { items: [] }];
      return [401, { error: { code: "unauthorized", message: "token expired" } }];
    });
    client.setTokens({ access_token: jwt(3600), refresh_token: "refresh-1" });
    await expect(unwrap(client.http.GET("/api/sessions"))).resolves.toEqual({ items: [] });
    expect(requests.map((r) => r.url)).toEqual(["/api/sessions", "/api/auth/refresh", "/api/sessions"]);
    expect(requests[1].authorization).toBe("Bearer refresh-1");
    expect(JSON.parse(localStorage.getItem("qc.tokens")!).access_token).toBe(fresh);
  });

  it("refreshes ahead of time when the access token is about to expire", async () => {
    const { client, requests } = fakeClient((_, url) =>
      url === "/api/auth/refresh" ? [200, { access_token: jwt(1800) }] : [200, {}],
    );
    client.setTokens({ access_token: jwt(10), refresh_token: "r" });
    await fetchMe(client);
    expect(requests[0].url).toBe("/api/auth/refresh");
  });

  it("logs out with the refresh token, so an expired access token still revokes the session", async () => {
    const { client, requests } = fakeClient(() => [204, null]);
    client.setTokens({ access_token: jwt(-60), refresh_token: "refresh-9" });
    await logOut(client);
    expect(client.loggedIn).toBe(false);
    expect(requests.map((r) => [r.url, r.authorization])).toEqual([
      ["/api/auth/logout", "Bearer refresh-9"],
    ]);
  });

  it("logs out when the refresh token is refused", async () => {
    const { client } = fakeClient(() => [401, { error: { code: "unauthorized", message: "token revoked" } }]);
    client.setTokens({ access_token: jwt(3600), refresh_token: "r" });
    const changes = vi.fn();
    client.onAuthChange(changes);
    await expect(unwrap(client.http.GET("/api/sessions"))).rejects.toBeInstanceOf(ApiError);
    expect(client.loggedIn).toBe(false);
    expect(localStorage.getItem("qc.tokens")).toBeNull();
    expect(changes).toHaveBeenCalled();
  });

  it("remembers why the server refused the refresh, for the sign-in page", async () => {
    for (const [message, said] of [
      ["this account was deactivated", "this account was deactivated"],
      ["token revoked", "this login was signed out"],
      ["token expired", "the login expired"],
    ]) {
      const { client } = fakeClient(() => [401, { error: { code: "unauthorized", message } }]);
      client.setTokens({ access_token: jwt(3600), refresh_token: "r" });
      await expect(unwrap(client.http.GET("/api/sessions"))).rejects.toBeInstanceOf(ApiError);
      expect(takeSignOutReason()).toBe(said);
    }
  });

  it("sends public calls without a token, and takes their 401 as the answer", async () => {
    const { client, requests } = fakeClient(() => [401, { error: { code: "unauthorized", message: "wrong username or password" } }]);
    client.setTokens({ access_token: jwt(3600), refresh_token: "r" });
    await expect(logIn(client, "ann", "nope")).rejects.toThrow("wrong username or password");
    expect(requests.map((r) => [r.url, r.authorization])).toEqual([["/api/auth/login", null]]);
    expect(client.loggedIn).toBe(true);
  });

  it("turns a network failure into a readable ApiError", async () => {
    const { client } = fakeClient(() => {
      throw new TypeError("fetch failed");
    });
    client.setTokens({ access_token: jwt(3600), refresh_token: "r" });
    await expect(fetchMe(client)).rejects.toMatchObject({ status: 0, message: expect.stringMatching(/Cannot reach the server/) });
  });
});

describe("readableError", () => {
  it("uses the server's message and the invalid fields", () => {
    const error = readableError(422, {
      error: { code: "invalid_input", message: "the request body is invalid", details: [{ field: "content", message: "must not be empty" }] },
    });
    expect(error.message).toBe("Content: must not be empty");
    expect(error.code).toBe("invalid_input");
  });

  it("drops the validator's jargon and names each field once", () => {
    const error = readableError(422, {
      error: {
        code: "invalid_input",
        message: "the request body is invalid (content: Value error, must not be blank)",
        details: [
          { field: "content", message: "Value error, must not be blank" },
          { field: "max_tokens", message: "Input should be greater than or equal to 1" },
        ],
      },
    });
    expect(error.message).toBe("Content: must not be blank; Max tokens: Input should be greater than or equal to 1");
    expect(fieldErrors(error)).toEqual({ content: "must not be blank", max_tokens: "Input should be greater than or equal to 1" });
  });

  it("says a refusal's own sentence once when its detail repeats it", () => {
    const message = "the message is 1900 tokens and 1500 fit: cut about 400 tokens, roughly 1700 characters";
    const error = readableError(422, {
      error: { code: "context_length_exceeded", message, param: "content", details: [{ field: "content", message, tokens: 1900 }] },
    });
    expect(error.message).toBe(message);
    expect(fieldErrors(error)).toEqual({ content: message });
  });

  it("explains network and server failures without jargon", () => {
    expect(readableError(0, null).message).toMatch(/Cannot reach the server/);
    expect(readableError(502, "<html>").message).toMatch(/server had a problem/);
  });
});
