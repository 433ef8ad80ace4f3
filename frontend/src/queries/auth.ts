// Who is logged in: the token state as React sees it, the current user, and the actions that change them.
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useMemo, useSyncExternalStore } from "react";
import { fetchAuthConfig, fetchMe, logIn, logOut, registerAccount } from "../api/auth";
import { useApiClient } from "../api/context";
import { useApiQuery } from "./cache";

export const authKeys = { me: ["auth", "me"] as const, config: ["auth", "config"] as const };

export function useLoggedIn(): boolean {
  const client = useApiClient();
  const subscribe = useCallback((changed: () => void) => client.onAuthChange(changed), [client]);
  return useSyncExternalStore(subscribe, () => client.loggedIn);
}

export const useMe = (enabled: boolean) => useApiQuery(authKeys.me, fetchMe, { enabled });

export const useAuthConfig = () => useApiQuery(authKeys.config, fetchAuthConfig);

export function useAuthActions() {
  const client = useApiClient();
  const queryClient = useQueryClient();
  return useMemo(() => {
    const login = async (username: string, password: string) => {
      await logIn(client, username, password);
      // a user the server will not describe counts as logged out, as before the login
      await queryClient.fetchQuery({ queryKey: authKeys.me, queryFn: () => fetchMe(client) }).catch(() => null);
    };
    return {
      login,
      register: async (username: string, password: string, email?: string) => {
        await registerAccount(client, { username, password, ...(email ? { email } : {}) });
        await login(username, password);
      },
      logout: () => logOut(client),
    };
  }, [client, queryClient]);
}
