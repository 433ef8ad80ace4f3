import { useMemo, type ReactNode } from "react";
import type { UserOut } from "./api/types";
import { requiredContext } from "./context";
import { useAuthActions, useLoggedIn, useMe } from "./queries/auth";

interface AuthState {
  user: UserOut | null;
  loading: boolean;
  login: (username: string, password: string) => Promise<void>;
  register: (username: string, password: string, email?: string) => Promise<void>;
  logout: () => Promise<void>;
}

const [AuthContext, useAuth] = requiredContext<AuthState>("useAuth", "AuthProvider");
export { useAuth };

export function AuthProvider({ children }: { children: ReactNode }) {
  const loggedIn = useLoggedIn();
  const me = useMe(loggedIn);
  const actions = useAuthActions();
  const user = loggedIn ? (me.data ?? null) : null;
  const loading = loggedIn && me.isPending;
  const value = useMemo<AuthState>(() => ({ user, loading, ...actions }), [user, loading, actions]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}
