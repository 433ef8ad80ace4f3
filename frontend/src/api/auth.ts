// Accounts and tokens: /api/auth/*.
import { unwrap, type ApiClient } from "./client";
import type { RegisterBody } from "./types";

export const fetchMe = (client: ApiClient) => unwrap(client.http.GET("/api/auth/me"));

export const fetchAuthConfig = (client: ApiClient) => unwrap(client.http.GET("/api/auth/config"));

export async function logIn(client: ApiClient, username: string, password: string): Promise<void> {
  client.setTokens(await unwrap(client.http.POST("/api/auth/login", { body: { username, password } })));
}

export async function registerAccount(client: ApiClient, body: RegisterBody): Promise<void> {
  await unwrap(client.http.POST("/api/auth/register", { body }));
}

/** Forgets the tokens at once; telling the server to revoke them is best effort. */
export async function logOut(client: ApiClient): Promise<void> {
  const token = client.signOut();
  if (!token) return;
  await client.http
    .POST("/api/auth/logout", { headers: { Authorization: `Bearer ${token}` } })
    .catch(() => undefined);
}

/** Ends a single sign-on: the one-time code from the callback's redirect becomes the tokens. */
export async function exchangeSsoCode(client: ApiClient, code: string): Promise<void> {
  client.setTokens(await unwrap(client.http.POST("/api/auth/oidc/exchange", { body: { code } })));
}
