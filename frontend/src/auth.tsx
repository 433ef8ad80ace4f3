import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { api, type ApiClient } from "./api/client";
import type { UserOut } from "./api/types";

interface AuthState {
  user: UserOut | null;
  loading: boolean;
  login: (username: string, password: string) => Promise<void>;
  register: (username: string, password: string, email?: string) => Promise<void>;
  logout: () => Promise<void>;
  client: ApiClient;
}

const AuthContext = createContext<AuthState | null>(null);

export function useAuth(): AuthState {
  const found = useContext(AuthContext);
  if (!found) throw new Error("useAuth outside AuthProvider");
  return found;
}

export function AuthProvider({ children, client = api }: { children: ReactNode; client?: ApiClient }) {
  const [user, setUser] = useState<UserOut | null>(null);
  const [loading, setLoading] = useState(client.loggedIn);

  const loadMe = useCallback(async () => {
    if (!client.loggedIn) {
      setUser(null);
      setLoading(false);
      return;
    }
    try {
      setUser(await client.get<UserOut>("/api/auth/me"));
    } catch {
      setUser(null);
    } finally {
      setLoading(false);
    }
  }, [client]);

  useEffect(() => {
    void loadMe();
    return client.onAuthChange(() => {
      if (!client.loggedIn) setUser(null);
    });
  }, [client, loadMe]);

  const value = useMemo<AuthState>(
    () => ({
      user,
      loading,
      client,
      login: async (username, password) => {
        await client.login(username, password);
        await loadMe();
      },
      register: async (username, password, email) => {
        await client.request("POST", "/api/auth/register", { username, password, ...(email ? { email } : {}) }, false);
        await client.login(username, password);
        await loadMe();
      },
      logout: async () => {
        await client.logout();
        setUser(null);
      },
    }),
    [user, loading, client, loadMe],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}
