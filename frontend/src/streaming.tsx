import { useEffect, useMemo, useState, type ReactNode } from "react";
import { useApiClient } from "./api/context";
import { useAuth } from "./auth";
import { requiredContext } from "./context";
import { rememberSignOut } from "./signedOut";
import { ReplyStore } from "./stream/replyStore";
import { StreamSocket } from "./stream/socket";
import type { ReplyState } from "./stream/events";

interface Streaming {
  store: ReplyStore;
  socket: StreamSocket;
}

const [StreamingContext, useStreaming] = requiredContext<Streaming>("useStreaming", "StreamingProvider");
export { useStreaming };

export function StreamingProvider({ children, value }: { children: ReactNode; value?: Streaming }) {
  const client = useApiClient();
  const { user } = useAuth();
  const streaming = useMemo<Streaming>(() => {
    if (value) return value;
    const store = new ReplyStore();
    const socket = new StreamSocket({
      store,
      getToken: (force) => client.accessToken(force),
      onSignedOut: (reason) => {
        rememberSignOut(reason);
        client.signOut(); // the sign-in page shows the reason
      },
    });
    return { store, socket };
  }, [client, value]);
  useEffect(() => {
    if (!user) streaming.socket.close();
  }, [user, streaming]);
  useEffect(() => () => streaming.socket.close(), [streaming]);
  return <StreamingContext.Provider value={streaming}>{children}</StreamingContext.Provider>;
}

/** The live state of one reply, re-rendering on each of its events. */
export function useReply(messageId: number | null): ReplyState | undefined {
  const { store } = useStreaming();
  const [state, setState] = useState(() => (messageId === null ? undefined : store.get(messageId)));
  useEffect(() => {
    if (messageId === null) return;
    setState(store.get(messageId));
    return store.subscribe((next) => {
      if (next.messageId === messageId) setState(next);
    });
  }, [store, messageId]);
  return state;
}
