// The user's own tools beside the chat: API keys and batch jobs.
import { Box, Container, Tab, Tabs } from "@mui/material";
import { Navigate, Route, Routes, useLocation, useNavigate } from "react-router-dom";
import { TopBar } from "../TopBar";
import { BatchesPanel } from "./BatchesPanel";
import { KeysPanel } from "./KeysPanel";

const TABS = [
  { path: "batches", label: "Batch jobs" },
  { path: "keys", label: "API keys" },
];

export function WorkspacePage() {
  const location = useLocation();
  const navigate = useNavigate();
  const current = TABS.findIndex((tab) => location.pathname.startsWith(`/workspace/${tab.path}`));
  return (
    <Box sx={{ display: "flex", flexDirection: "column", height: "100%" }}>
      <TopBar title="Workspace" area="workspace" />
      <Box sx={{ borderBottom: 1, borderColor: "divider", bgcolor: "background.paper" }}>
        <Tabs
          value={current === -1 ? 0 : current}
          onChange={(_, index: number) => navigate(`/workspace/${TABS[index].path}`)}
          variant="scrollable"
          allowScrollButtonsMobile
        >
          {TABS.map((tab) => (
            <Tab key={tab.path} label={tab.label} />
          ))}
        </Tabs>
      </Box>
      <Box sx={{ flex: 1, overflowY: "auto" }}>
        <Container maxWidth="lg" sx={{ py: 3 }}>
          <Routes>
            <Route path="batches" element={<BatchesPanel />} />
            <Route path="keys" element={<KeysPanel />} />
            <Route path="*" element={<Navigate to="batches" replace />} />
          </Routes>
        </Container>
      </Box>
    </Box>
  );
}
