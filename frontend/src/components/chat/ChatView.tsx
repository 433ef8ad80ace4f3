import ForumOutlinedIcon from "@mui/icons-material/ForumOutlined";
import { Alert, Box, Button, CircularProgress, Container, Typography } from "@mui/material";
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";
import { createPortal } from "react-dom";
import { useSearchParams } from "react-router-dom";
import { ApiError } from "../../api/errors";
import { FINAL_STATUSES } from "../../api/enums";
import type { MessageOut, SessionOut, SessionUpdate, TemplateOut } from "../../api/types";
import { chatFileKeys, isReading, useChatFileCalls, useChatFiles } from "../../queries/chatFiles";
import { useLimits, useMessages, useReplyCalls } from "../../queries/messages";
import { useSessionCalls } from "../../queries/sessions";
import { useReply, useStreaming } from "../../streaming";
import { useConfirm } from "../ConfirmDialog";
import { useErrorAlert } from "../useErrorAlert";
import { AttachButton, type PickedFile, PickedFiles } from "./ChatFiles";
import { ChatSettings, replyOptions } from "./ChatSettings";
import { Composer } from "./Composer";
import { CONTINUE_PROMPT, MessageItem } from "./MessageItem";
import { type PanelSlots, SourceList } from "./SidePanel";

export const DEFAULT_TITLE = "New chat";
const NO_MESSAGES: MessageOut[] = [];
const FOUND_OUTLINE_MS = 4000;
const MAX_AUTO_RETRY_S = 120; // a longer wait (a spent budget: until tomorrow) is only said

export function titleFrom(text: string): string {
  const line = text.trim().split("\n")[0].trim();
  return line.length > 60 ? `${line.slice(0, 57)}…` : line || DEFAULT_TITLE;
}

/** The settings of a chat not made yet: chosen before its first message, sent with it. */
export type ChatDraft = Pick<SessionOut, "use_knowledge_base" | "template_id" | "model">;
const NEW_CHAT: ChatDraft = { use_knowledge_base: false, template_id: null, model: null };

interface Props {
  /** null: a new chat, made when its first message is accepted */
  session: SessionOut | null;
  templates: TemplateOut[] | null;
  createSession: (firstMessage: string, settings: ChatDraft) => Promise<SessionOut>;
  onSessionChanged: (session: SessionOut) => void;
  /** a phone: the chat's settings sit in one button beside the message box (one row) */
  compact?: boolean;
  /** the side panel's parts this view fills (tablet and desktop); null: no panel */
  slots?: PanelSlots | null;
}

/** Off screen, still read by screen readers. */
const visuallyHidden = {
  position: "absolute",
  width: "1px",
  height: "1px",
  overflow: "hidden",
  clip: "rect(0 0 0 0)",
  whiteSpace: "nowrap",
} as const;

export function ChatView({ session, templates, createSession, onSessionChanged, compact = false, slots = null }: Props) {
  const { store } = useStreaming();
  const sessionId = session?.id ?? null;
  const messagesQuery = useMessages(sessionId);
  const limits = useLimits().data;
  const alert = useErrorAlert(messagesQuery);
  const replies = useReplyCalls();
  const [confirmDialog, confirm] = useConfirm();
  const { update: updateSession, remove: removeSession } = useSessionCalls();
  const [retry, setRetry] = useState<{ text: string; at: number } | null>(null);
  const [draft, setDraft] = useState<ChatDraft>(NEW_CHAT);
  const [selected, setSelected] = useState<number | null>(null); // the reply whose sources show
  const sendRef = useRef<((text: string) => Promise<boolean>) | null>(null);
  const [composerKey, setComposerKey] = useState(0);
  const [now, setNow] = useState(Date.now); // the countdown's clock
  const scroller = useRef<HTMLDivElement>(null);
  const stickToBottom = useRef(true);
  const messages = messagesQuery.data?.items ?? NO_MESSAGES;
  // files: stored ones not sent yet, and those chosen before the chat exists (sent with it)
  const queryClient = useQueryClient();
  const chatFiles = useChatFiles(sessionId).data?.items;
  const fileCalls = useChatFileCalls();
  const [localFiles, setLocalFiles] = useState<File[]>([]);
  const unsent = (chatFiles ?? []).filter((file) => file.message_id === null);
  const picked: PickedFile[] = [
    ...unsent.map((stored) => ({ key: `s${stored.id}`, name: stored.original_name, stored })),
    ...localFiles.map((file, i) => ({ key: `l${i}-${file.name}`, name: file.name, file })),
  ];
  const readingFiles = (chatFiles ?? []).some(isReading);
  const loading = messagesQuery.isLoading;
  const { attempt, clear } = alert;

  useEffect(clear, [sessionId, clear]); // another chat: the last one's error is not shown

  const open = messages.find((m) => m.role === "assistant" && !FINAL_STATUSES.has(m.status));
  const openState = useReply(open?.id ?? null); // Send is back at the stream's final event
  const busy = open !== undefined && !(openState && FINAL_STATUSES.has(openState.status));

  // a screen reader hears a reply start and end (the text itself is read on demand)
  const [announced, setAnnounced] = useState("");
  const wasBusy = useRef(busy);
  useEffect(() => {
    if (busy !== wasBusy.current) setAnnounced(busy ? "The reply started." : "The reply is complete.");
    wasBusy.current = busy;
  }, [busy]);

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
      setRetry(null);
      const made = session === null; // the chat exists once its first message is accepted
      let target = session ?? (await createSession(text, draft));
      try {
        if (target.title === DEFAULT_TITLE && messages.length === 0) {
          // a chat made with "New chat" takes its title from the first message
          target = await updateSession({ id: target.id, patch: { title: titleFrom(text) } });
        }
        const fileIds = unsent.map((file) => file.id);
        if (localFiles.length) {
          const uploaded = await fileCalls.attach({ sessionId: target.id, files: localFiles });
          fileIds.push(...uploaded.items.map((file) => file.id));
          setLocalFiles([]);
        }
        stickToBottom.current = true;
        const files = fileIds.length ? { file_ids: fileIds } : {};
        await replies.send({ sessionId: target.id, body: { content: text, ...files, ...replyOptions() } });
        void queryClient.invalidateQueries({ queryKey: chatFileKeys.of(target.id) });
      } catch (e) {
        if (made) await removeSession(target.id).catch(() => undefined); // no empty chat left
        if (e instanceof ApiError && e.status === 429 && e.retryAfter !== null && e.retryAfter <= MAX_AUTO_RETRY_S) {
          const refusedAt = Date.now(); // one clock for both: the countdown starts at Retry-After
          setNow(refusedAt);
          setRetry({ text, at: refusedAt + e.retryAfter * 1000 }); // sent again when the wait is over
        }
        throw e;
      }
      onSessionChanged(target); // a new chat: its page loads the messages
    });
  sendRef.current = send;

  useEffect(() => {
    setRetry(null);
    setSelected(null);
    setLocalFiles([]);
    if (sessionId === null) setDraft(NEW_CHAT); // "New chat" starts from the defaults
  }, [sessionId]);
  // the side panel shows the sources of the reply chosen last, else of the newest reply with any
  const chosen =
    messages.find((m) => m.id === selected) ??
    [...messages].reverse().find((m) => m.role === "assistant" && (m.citations?.length ?? 0) > 0);
  const chosenLive = useReply(chosen?.id ?? null);
  const chosenSources = (chosenLive?.citations.length ? chosenLive.citations : chosen?.citations) ?? [];
  useEffect(() => {
    if (!retry) return;
    const timer = window.setInterval(() => {
      setNow(Date.now());
      if (Date.now() >= retry.at) {
        window.clearInterval(timer);
        void sendRef.current?.(retry.text).then((sent) => {
          if (sent) setComposerKey((key) => key + 1); // the composer held the refused text
        });
      }
    }, 250);
    return () => window.clearInterval(timer);
  }, [retry]);

  const pickFiles = (files: File[]) => {
    if (!session) setLocalFiles((chosen) => [...chosen, ...files]);
    else
      void attempt(async () => {
        const result = await fileCalls.attach({ sessionId: session.id, files });
        if (result.rejected?.length) throw new Error(result.rejected.map((r) => r.message).join("; "));
      });
  };
  const removeFile = (file: PickedFile) => {
    if (file.stored && session) void attempt(() => fileCalls.remove({ sessionId: session.id, fileId: file.stored!.id }));
    else setLocalFiles((chosen) => chosen.filter((f) => f !== file.file));
  };

  const deletePair = async (messageId: number) => {
    if (!session) return;
    const sure = await confirm({
      title: "Delete this question and its reply?",
      text: "Both leave the chat for good.",
      action: "Delete",
    });
    if (sure) await attempt(() => replies.removePair({ messageId, sessionId: session.id }));
  };

  const edit = (messageId: number, text: string): Promise<boolean> =>
    session
      ? attempt(async () => {
          stickToBottom.current = true;
          await replies.edit({ messageId, sessionId: session.id, body: { content: text, ...replyOptions() } });
        })
      : Promise.resolve(false);

  const showVersion = (messageId: number) => {
    if (session) void attempt(() => replies.showVersion({ messageId, sessionId: session.id }));
  };

  const regenerate = async () => {
    if (session) await attempt(() => replies.regenerate({ sessionId: session.id, body: replyOptions() }));
  };

  const changeSettings = async (patch: SessionUpdate) => {
    if (session) await attempt(async () => onSessionChanged(await updateSession({ id: session.id, patch })));
    else setDraft((settings) => ({ ...settings, ...(patch as ChatDraft) }));
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

  // a message opened from the search: scrolled to and outlined for a moment, once
  const [searchParams] = useSearchParams();
  const target = Number(searchParams.get("m")) || null;
  const shownTarget = useRef<number | null>(null);
  const triedBranch = useRef<number | null>(null);
  useEffect(() => {
    if (target === null || shownTarget.current === target) return;
    const el = scroller.current?.querySelector<HTMLElement>(`[data-message-id="${target}"]`);
    if (!el) {
      // the message is in another version of the chat: show that branch (once)
      if (session && !loading && triedBranch.current !== target) {
        triedBranch.current = target;
        void attempt(() => replies.showVersion({ messageId: target, sessionId: session.id }));
      }
      return;
    }
    shownTarget.current = target;
    stickToBottom.current = false;
    el.scrollIntoView({ block: "center" });
    el.dataset.found = "true";
    window.setTimeout(() => delete el.dataset.found, FOUND_OUTLINE_MS);
  }, [target, messages, session, loading, attempt, replies]);

  const lastId = messages.length ? messages[messages.length - 1].id : null;
  const settings = (
    <ChatSettings settings={session ?? draft} templates={templates} onChange={(p) => void changeSettings(p)} compact={compact} />
  );
  const inPanel = slots !== null; // settings and sources live in the side panel
  return (
    <Box sx={{ display: "flex", flexDirection: "column", height: "100%", minHeight: 0 }}>
      {confirmDialog}
      {slots?.settings && createPortal(settings, slots.settings)}
      {slots?.sources && createPortal(<SourceList citations={chosenSources} />, slots.sources)}
      <Box aria-live="polite" data-testid="reply-announcer" sx={visuallyHidden}>
        {announced}
      </Box>
      <Box
        ref={scroller}
        onScroll={onScroll}
        sx={{ flex: 1, overflowY: "auto", "& [data-found]": { outline: (t) => `3px solid ${t.palette.warning.main}`, outlineOffset: 4, borderRadius: 1 } }}
        data-testid="messages"
      >
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
              onContinue={message.role === "assistant" ? () => void send(CONTINUE_PROMPT) : undefined}
              onDelete={message.role === "user" ? () => void deletePair(message.id) : undefined}
              onSources={setSelected}
              selected={inPanel && message.id === chosen?.id && chosenSources.length > 0}
              onEdit={message.role === "user" ? (text) => edit(message.id, text) : undefined}
              onShowVersion={showVersion}
              locked={busy}
              maxChars={limits?.max_message_chars}
              readingFiles={readingFiles}
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
          {retry && (
            <Alert
              severity="info"
              sx={{ mb: 1 }}
              role="status"
              data-testid="retry-countdown"
              action={
                <Button color="inherit" size="small" onClick={() => setRetry(null)}>
                  Cancel
                </Button>
              }
            >
              Sending again in {Math.max(0, Math.ceil((retry.at - now) / 1000))} s…
            </Alert>
          )}
          {!compact && !inPanel && settings}
          <PickedFiles files={picked} onRemove={removeFile} />
          <Composer
            leading={
              <>
                {compact && settings}
                <AttachButton onPick={pickFiles} />
              </>
            }
            key={composerKey}
            compact={compact}
            busy={busy}
            onSend={send}
            onStop={() => void stop()}
            maxChars={limits?.max_message_chars}
          />
        </Container>
      </Box>
    </Box>
  );
}
