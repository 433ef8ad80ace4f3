import { Alert, Box, CircularProgress, Drawer, useMediaQuery } from "@mui/material";
import { useCallback, useEffect, useState } from "react";
import { useNavigate, useParams } from "react-router-dom";
import type { SessionOut, SessionPage, TemplateOut } from "../../api/types";
import { useAuth } from "../../auth";
import { TopBar } from "../TopBar";
import { ChatView, DEFAULT_TITLE, titleFrom } from "./ChatView";
import { Sidebar } from "./Sidebar";

const SIDEBAR_WIDTH = 280;
export const PHONE_QUERY = "(max-width:768px)";

export function ChatPage() {
  const { client } = useAuth();
  const params = useParams();
  const navigate = useNavigate();
  const phone = useMediaQuery(PHONE_QUERY, { noSsr: true });
  const [drawerOpen, setDrawerOpen] = useState(false);
  const [sessions, setSessions] = useState<SessionOut[]>([]);
  const [templates, setTemplates] = useState<TemplateOut[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [missing, setMissing] = useState<number | null>(null);
  const activeId = params.sessionId ? Number(params.sessionId) : null;
  const active = sessions.find((s) => s.id === activeId) ?? null;

  const loadSessions = useCallback(async () => {
    try {
      const page = await client.get<SessionPage>("/api/sessions?limit=100");
      setSessions(page.items as SessionOut[]);
      setLoaded(true);
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  }, [client]);

  useEffect(() => {
    void loadSessions();
    client
      .get<{ items: TemplateOut[] }>("/api/templates")
      .then((body) => setTemplates(body.items))
      .catch(() => setTemplates(null)); // no template API on this server
  }, [client, loadSessions]);

  // a chat older than the listed ones is fetched on its own
  useEffect(() => {
    if (!loaded || activeId === null || sessions.some((s) => s.id === activeId)) return;
    client
      .get<SessionOut>(`/api/sessions/${activeId}`)
      .then((found) => setSessions((list) => (list.some((s) => s.id === found.id) ? list : [...list, found])))
      .catch(() => setMissing(activeId));
  }, [client, loaded, activeId, sessions]);

  const select = (id: number) => {
    navigate(`/c/${id}`);
    setDrawerOpen(false);
  };

  const createSession = async (title: string): Promise<SessionOut> => {
    const created = await client.post<SessionOut>("/api/sessions", { title: titleFrom(title) });
    setSessions((list) => [created, ...list]);
    return created;
  };

  const sidebar = (
    <Sidebar
      sessions={sessions}
      activeId={activeId}
      onSelect={select}
      onNew={async () => {
        try {
          select((await createSession(DEFAULT_TITLE)).id);
        } catch (e) {
          setError((e as Error).message);
        }
      }}
      onRename={async (id, title) => {
        const renamed = await client.patch<SessionOut>(`/api/sessions/${id}`, { title });
        setSessions((list) => list.map((s) => (s.id === id ? renamed : s)));
      }}
      onDelete={async (id) => {
        try {
          await client.delete(`/api/sessions/${id}`);
          setSessions((list) => list.filter((s) => s.id !== id));
          if (id === activeId) navigate("/");
        } catch (e) {
          setError((e as Error).message);
        }
      }}
    />
  );

  const unknownSession = activeId !== null && missing === activeId;
  const waiting = activeId !== null && active === null && !unknownSession;
  return (
    <Box sx={{ display: "flex", flexDirection: "column", height: "100%" }}>
      <TopBar title={active?.title ?? ""} area="chat" onMenu={phone ? () => setDrawerOpen(true) : undefined} />
      <Box sx={{ display: "flex", flex: 1, minHeight: 0 }}>
        {phone ? (
          <Drawer open={drawerOpen} onClose={() => setDrawerOpen(false)} slotProps={{ paper: { sx: { width: "85%", maxWidth: SIDEBAR_WIDTH } } }}>
            {sidebar}
          </Drawer>
        ) : (
          <Box sx={{ width: SIDEBAR_WIDTH, flexShrink: 0, borderRight: 1, borderColor: "divider", bgcolor: "background.paper" }}>
            {sidebar}
          </Box>
        )}
        <Box component="main" sx={{ flex: 1, minWidth: 0, display: "flex", flexDirection: "column" }}>
          {error && (
            <Alert severity="error" onClose={() => setError(null)}>
              {error}
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
              client={client}
              session={active}
              templates={templates}
              createSession={createSession}
              onSessionChanged={(changed) => {
                if (changed && changed.id !== activeId) {
                  navigate(`/c/${changed.id}`);
                } else if (changed) {
                  setSessions((list) => list.map((s) => (s.id === changed.id ? changed : s)));
                }
                void loadSessions();
              }}
            />
          )}
        </Box>
      </Box>
    </Box>
  );
}
