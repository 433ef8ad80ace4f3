import ForumOutlinedIcon from "@mui/icons-material/ForumOutlined";
import { Alert, Box, CircularProgress, Container, Typography } from "@mui/material";
import { useCallback, useEffect, useLayoutEffect, useRef } from "react";
import { FINAL_STATUSES } from "../../api/enums";
import type { MessageOut, SessionOut, SessionUpdate, TemplateOut } from "../../api/types";
import { useMessages, useReplyCalls } from "../../queries/messages";
import { useSessionCalls } from "../../queries/sessions";
import { useStreaming } from "../../streaming";
import { useErrorAlert } from "../useErrorAlert";
import { ChatSettings, replyOptions } from "./ChatSettings";
import { Composer } from "./Composer";
import { MessageItem } from "./MessageItem";

export const DEFAULT_TITLE = "New chat";
const NO_MESSAGES: MessageOut[] = [];

export function titleFrom(text: string): string {
  const line = text.trim().split("\n")[0].trim();
  return line.length > 60 ? `${line.slice(0, 57)}…` : line || DEFAULT_TITLE;
}

interface Props {
  session: SessionOut | null;
  templates: TemplateOut[] | null;
  createSession: (firstMessage: string) => Promise<SessionOut>;
  onSessionChanged: (session: SessionOut) => void;
}

export function ChatView({ session, templates, createSession, onSessionChanged }: Props) {
  const { store } = useStreaming();
  const sessionId = session?.id ?? null;
  const messagesQuery = useMessages(sessionId);
  const alert = useErrorAlert(messagesQuery);
  const replies = useReplyCalls();
  const { update: updateSession } = useSessionCalls();
  const scroller = useRef<HTMLDivElement>(null);
  const stickToBottom = useRef(true);
  const messages = messagesQuery.data?.items ?? NO_MESSAGES;
  const loading = messagesQuery.isLoading;
  const { attempt, clear } = alert;

  useEffect(clear, [sessionId, clear]); // another chat: the last one's error is not shown

  const open = messages.find((m) => m.role === "assistant" && !FINAL_STATUSES.has(m.status));
  const openState = open ? store.get(open.id) : undefined;
  const busy = open !== undefined && !(openState && FINAL_STATUSES.has(openState.status));

  const { cancel } = replies;
  const stop = useCallback(async () => {
    if (open) await attempt(() => cancel(open.id));
  }, [attempt, cancel, open]);

  useEffect(() => {
    if (!busy) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") void stop();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [busy, stop]);

  const send = (text: string): Promise<boolean> =>
    attempt(async () => {
      let target = session ?? (await createSession(text));
      if (target.title === DEFAULT_TITLE && messages.length === 0) {
        // a chat made with "New chat" takes its title from the first message
        target = await updateSession({ id: target.id, patch: { title: titleFrom(text) } });
      }
      stickToBottom.current = true;
      await replies.send({ sessionId: target.id, body: { content: text, ...replyOptions() } });
      onSessionChanged(target); // a new chat: its page loads the messages
    });

  const regenerate = async () => {
    if (session) await attempt(() => replies.regenerate({ sessionId: session.id, body: replyOptions() }));
  };

  const changeSettings = async (patch: SessionUpdate) => {
    if (session) await attempt(async () => onSessionChanged(await updateSession({ id: session.id, patch })));
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
          {alert.message && (
            <Alert severity="error" onClose={clear} sx={{ mb: 1 }} role="alert">
              {alert.message}
            </Alert>
          )}
          <ChatSettings session={session} templates={templates} onChange={(p) => void changeSettings(p)} />
          <Composer busy={busy} onSend={send} onStop={() => void stop()} />
        </Container>
      </Box>
    </Box>
  );
}
