import { Alert, Box, CircularProgress, Drawer, useMediaQuery } from "@mui/material";
import { useCallback, useState } from "react";
import { useNavigate, useParams } from "react-router-dom";
import { useApiClient } from "../../api/context";
import { exportSession, searchMessages } from "../../api/sessions";
import type { SessionOut } from "../../api/types";
import { saveBlob } from "../../download";
import { useChatSessions, useRefreshSessions, useSessionCalls } from "../../queries/sessions";
import { useTemplates } from "../../queries/templates";
import { TopBar } from "../TopBar";
import { useErrorAlert } from "../useErrorAlert";
import { type ChatDraft, ChatView, titleFrom } from "./ChatView";
import { ShareDialog } from "./ShareDialog";
import { SidePanel } from "./SidePanel";
import { Sidebar } from "./Sidebar";

const SIDEBAR_WIDTH = 280; // the phone's drawer
export const DESKTOP_QUERY = "(min-width:1025px)";

/** A chat's title as a file name: letters, digits, dashes. */
export const fileName = (title: string) => title.replace(/[^\p{L}\p{N}]+/gu, "-").replace(/^-|-$/g, "").slice(0, 60) || "chat";
export const PHONE_QUERY = "(max-width:768px)";

export function ChatPage() {
  const params = useParams();
  const navigate = useNavigate();
  const phone = useMediaQuery(PHONE_QUERY, { noSsr: true });
  const desktop = useMediaQuery(DESKTOP_QUERY, { noSsr: true });
  // the side panel's parts that ChatView fills (tablet and desktop)
  const [settingsSlot, setSettingsSlot] = useState<HTMLElement | null>(null);
  const [sourcesSlot, setSourcesSlot] = useState<HTMLElement | null>(null);
  const [drawerOpen, setDrawerOpen] = useState(false);
  const [sharing, setSharing] = useState<SessionOut | null>(null);
  const activeId = params.sessionId ? Number(params.sessionId) : null;
  const { list, sessions, active, missing: unknownSession } = useChatSessions(activeId);
  const templates = useTemplates().data?.items ?? null; // null: no template API on this server
  const alert = useErrorAlert(list);
  const calls = useSessionCalls();
  const refreshSessions = useRefreshSessions();
  const client = useApiClient();

  const select = (id: number) => {
    navigate(`/c/${id}`);
    setDrawerOpen(false);
  };

  const createSession = (firstMessage: string, settings: ChatDraft): Promise<SessionOut> =>
    calls.create({ ...settings, title: titleFrom(firstMessage) });
  const findMessages = useCallback(async (q: string) => (await searchMessages(client, q)).items, [client]);

  const sidebar = (
    <Sidebar
      sessions={sessions}
      activeId={activeId}
      onSelect={select}
      onNew={() => {
        navigate("/"); // a chat is made when its first message is accepted (ChatView)
        setDrawerOpen(false);
      }}
      onRename={async (id, title) => {
        await calls.update({ id, patch: { title } });
      }}
      onPin={async (session, pinned) => {
        await alert.attempt(() => calls.update({ id: session.id, patch: { pinned } }));
      }}
      onSearchMessages={findMessages}
      onShare={setSharing}
      onOpenMessage={(hit) => {
        navigate(`/c/${hit.session_id}?m=${hit.message_id}`);
        setDrawerOpen(false);
      }}
      onExport={(session, format) =>
        void alert.attempt(async () =>
          saveBlob(await exportSession(client, session.id, format), `${fileName(session.title)}.${format === "json" ? "json" : "md"}`),
        )
      }
      onImport={(file) =>
        void alert.attempt(async () => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(await file.text());
          } catch {
            throw new Error(`${file.name} is not a JSON file: export a chat from QueueChat or ChatGPT and choose that file`);
          }
          const made = await calls.importChats(parsed);
          if (made.items.length) select(made.items[0].id);
        })
      }
      onDelete={async (id) => {
        await alert.attempt(async () => {
          await calls.remove(id);
          if (id === activeId) navigate("/");
        });
      }}
    />
  );

  const waiting = activeId !== null && active === null && !unknownSession;
  return (
    <Box sx={{ display: "flex", flexDirection: "column", height: "100%" }}>
      {sharing && <ShareDialog session={sharing} onClose={() => setSharing(null)} />}
      <TopBar title={active?.title ?? ""} area="chat" onMenu={phone ? () => setDrawerOpen(true) : undefined} />
      <Box sx={{ display: "flex", flex: 1, minHeight: 0 }}>
        {phone && (
          <Drawer open={drawerOpen} onClose={() => setDrawerOpen(false)} slotProps={{ paper: { sx: { width: "85%", maxWidth: SIDEBAR_WIDTH } } }}>
            {sidebar}
          </Drawer>
        )}
        {/* the design's proportions: chat 60% and panel 40% on a desktop, 70/30 on a tablet */}
        <Box component="main" sx={{ width: phone ? "100%" : desktop ? "60%" : "70%", flexShrink: 0, minWidth: 0, display: "flex", flexDirection: "column" }}>
          {alert.message && (
            <Alert severity="error" onClose={alert.clear}>
              {alert.message}
            </Alert>
          )}
          {unknownSession ? (
            <Alert severity="warning" sx={{ m: 2 }}>
              This chat does not exist (or is not yours).
            </Alert>
          ) : waiting ? (
            <CircularProgress sx={{ m: "auto" }} />
          ) : (
            <ChatView
              session={active}
              templates={templates}
              createSession={createSession}
              compact={phone}
              slots={phone ? null : { settings: settingsSlot, sources: sourcesSlot }}
              onSessionChanged={(changed) => {
                if (changed.id !== activeId) navigate(`/c/${changed.id}`);
                refreshSessions();
              }}
            />
          )}
        </Box>
        {!phone && (
          <Box sx={{ width: desktop ? "40%" : "30%", flexShrink: 0, minWidth: 0 }}>
            <SidePanel chats={sidebar} settingsSlot={setSettingsSlot} sourcesSlot={setSourcesSlot} />
          </Box>
        )}
      </Box>
    </Box>
  );
}
