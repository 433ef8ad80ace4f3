import ForumOutlinedIcon from "@mui/icons-material/ForumOutlined";
import { Alert, Box, CircularProgress, Container, Typography } from "@mui/material";
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";
import type { ApiClient } from "../../api/client";
import { FINAL_STATUSES, type MessageList, type MessageOut, type ReplyQueued, type SessionOut, type TemplateOut } from "../../api/types";
import { useStreaming } from "../../streaming";
import type { ReplyStatus } from "../../stream/events";
import { ChatSettings, storedMaxTokens } from "./ChatSettings";
import { Composer } from "./Composer";
import { MessageItem } from "./MessageItem";

export const DEFAULT_TITLE = "New chat";

export function titleFrom(text: string): string {
  const line = text.trim().split("\n")[0].trim();
  return line.length > 60 ? `${line.slice(0, 57)}…` : line || DEFAULT_TITLE;
}

interface Props {
  client: ApiClient;
  session: SessionOut | null;
  templates: TemplateOut[] | null;
  createSession: (firstMessage: string) => Promise<SessionOut>;
  onSessionChanged: (session?: SessionOut) => void;
}

export function ChatView({ client, session, templates, createSession, onSessionChanged }: Props) {
  const { store, socket } = useStreaming();
  const [messages, setMessages] = useState<MessageOut[]>([]);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const stickToBottom = useRef(true);
  const sessionId = session?.id ?? null;

  const load = useCallback(
    async (id: number) => {
      const list = await client.get<MessageList>(`/api/sessions/${id}/messages`);
      setMessages(list.items as MessageOut[]);
      for (const message of list.items) {
        if (message.role === "assistant" && !FINAL_STATUSES.has(message.status)) {
          store.track(message.id, message.status as ReplyStatus);
          socket.follow(message.id);
        }
      }
    },
    [client, store, socket],
  );

  useEffect(() => {
    setMessages([]);
    setError(null);
    if (sessionId === null) return;
    setLoading(true);
    load(sessionId)
      .catch((e: Error) => setError(e.message))
      .finally(() => setLoading(false));
  }, [sessionId, load]);

  // a reply that reached its final event is stored: show the stored version
  useEffect(
    () =>
      store.subscribe((state) => {
        if (sessionId === null || !FINAL_STATUSES.has(state.status)) return;
        if (!messages.some((m) => m.id === state.messageId)) return;
        load(sessionId).catch((e: Error) => setError(e.message));
      }),
    [store, sessionId, messages, load],
  );

  const open = messages.find((m) => m.role === "assistant" && !FINAL_STATUSES.has(m.status));
  const openState = open ? store.get(open.id) : undefined;
  const busy = open !== undefined && !(openState && FINAL_STATUSES.has(openState.status));

  const stop = useCallback(async () => {
    if (!open) return;
    try {
      await client.post(`/api/messages/${open.id}/cancel`);
    } catch (e) {
      setError((e as Error).message);
    }
  }, [client, open]);

  useEffect(() => {
    if (!busy) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") void stop();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [busy, stop]);

  const send = async (text: string): Promise<boolean> => {
    setError(null);
    try {
      let target = session ?? (await createSession(text));
      if (target.title === DEFAULT_TITLE && messages.length === 0) {
        // a chat made with "New chat" takes its title from the first message
        target = await client.patch<SessionOut>(`/api/sessions/${target.id}`, { title: titleFrom(text) });
      }
      const maxTokens = storedMaxTokens();
      const queued = await client.post<ReplyQueued>(`/api/sessions/${target.id}/messages`, {
        content: text,
        ...(maxTokens ? { max_tokens: maxTokens } : {}),
      });
      store.track(queued.assistant_message_id);
      socket.follow(queued.assistant_message_id);
      stickToBottom.current = true;
      if (session) await load(target.id);
      onSessionChanged(target); // a new chat: its page loads the messages
      return true;
    } catch (e) {
      setError((e as Error).message);
      return false;
    }
  };

  const regenerate = async () => {
    if (!session) return;
    setError(null);
    try {
      const maxTokens = storedMaxTokens();
      const queued = await client.post<ReplyQueued>(`/api/sessions/${session.id}/regenerate`, maxTokens ? { max_tokens: maxTokens } : {});
      store.track(queued.assistant_message_id);
      socket.follow(queued.assistant_message_id);
      await load(session.id);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const changeSettings = async (patch: { use_knowledge_base?: boolean; template_id?: number | null }) => {
    if (!session) return;
    try {
      onSessionChanged(await client.patch<SessionOut>(`/api/sessions/${session.id}`, patch));
    } catch (e) {
      setError((e as Error).message);
    }
  };

  // follow the reply down while the reader is at the bottom
  const onScroll = () => {
    const el = scroller.current;
    if (el) stickToBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
  };
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && stickToBottom.current) el.scrollTop = el.scrollHeight;
  });
  useEffect(() => store.subscribe(() => {
    const el = scroller.current;
    if (el && stickToBottom.current) requestAnimationFrame(() => (el.scrollTop = el.scrollHeight));
  }), [store]);

  const lastId = messages.length ? messages[messages.length - 1].id : null;
  return (
    <Box sx={{ display: "flex", flexDirection: "column", height: "100%", minHeight: 0 }}>
      <Box ref={scroller} onScroll={onScroll} sx={{ flex: 1, overflowY: "auto" }} data-testid="messages">
        <Container maxWidth="md" sx={{ py: 3, display: "flex", flexDirection: "column", gap: 2.5 }}>
          {loading && <CircularProgress sx={{ alignSelf: "center" }} />}
          {!loading && messages.length === 0 && (
            <Box sx={{ textAlign: "center", color: "text.secondary", mt: 8 }}>
              <ForumOutlinedIcon sx={{ fontSize: 48, opacity: 0.5 }} />
              <Typography variant="h6">{session ? "No messages yet" : "Start a new chat"}</Typography>
              <Typography variant="body2">Ask anything. Enter sends, Shift+Enter adds a line.</Typography>
            </Box>
          )}
          {messages.map((message) => (
            <MessageItem
              key={message.id}
              message={message}
              isLast={message.id === lastId}
              onRegenerate={message.role === "assistant" ? () => void regenerate() : undefined}
            />
          ))}
        </Container>
      </Box>
      <Box sx={{ borderTop: 1, borderColor: "divider", bgcolor: "background.paper" }}>
        <Container maxWidth="md" sx={{ py: 1 }}>
          {error && (
            <Alert severity="error" onClose={() => setError(null)} sx={{ mb: 1 }} role="alert">
              {error}
            </Alert>
          )}
          <ChatSettings session={session} templates={templates} onChange={(p) => void changeSettings(p)} />
          <Composer busy={busy} onSend={send} onStop={() => void stop()} />
        </Container>
      </Box>
    </Box>
  );
}
