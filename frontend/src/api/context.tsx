// The API client and the query cache, given to the whole tree by one provider.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useEffect, useState, type ReactNode } from "react";
import { requiredContext } from "../context";
import type { ApiClient } from "./client";

const [ApiContext, useApiClient] = requiredContext<ApiClient>("useApiClient", "ApiProvider");
export { useApiClient };

/** Failures are shown at once (no silent retries), and a list reloads when its data changes, not on focus. */
export function newQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: { retry: false, refetchOnWindowFocus: false },
      mutations: { retry: false },
    },
  });
}

export function ApiProvider({ client, children }: { client: ApiClient; children: ReactNode }) {
  const [queryClient] = useState(newQueryClient);
  // what one account loaded is never shown to the next one
  useEffect(
    () =>
      client.onAuthChange(() => {
        if (!client.loggedIn) queryClient.clear();
      }),
    [client, queryClient],
  );
  return (
    <ApiContext.Provider value={client}>
      <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>
    </ApiContext.Provider>
  );
}
