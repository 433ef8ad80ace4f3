import { Box, Container, Tab, Tabs } from "@mui/material";
import { Navigate, Route, Routes, useLocation, useNavigate } from "react-router-dom";
import { TopBar } from "../TopBar";
import { DocumentsPanel } from "./DocumentsPanel";
import { SystemPanel } from "./SystemPanel";
import { TemplatesPanel } from "./TemplatesPanel";
import { UsersPanel } from "./UsersPanel";

const TABS = [
  { path: "documents", label: "Documents" },
  { path: "templates", label: "Templates" },
  { path: "users", label: "Users" },
  { path: "system", label: "System" },
];

export function AdminPage() {
  const location = useLocation();
  const navigate = useNavigate();
  const current = TABS.findIndex((tab) => location.pathname.startsWith(`/admin/${tab.path}`));
  return (
    <Box sx={{ display: "flex", flexDirection: "column", height: "100%" }}>
      <TopBar title="Administration" area="admin" />
      <Box sx={{ borderBottom: 1, borderColor: "divider", bgcolor: "background.paper" }}>
        <Tabs
          value={current === -1 ? 0 : current}
          onChange={(_, index: number) => navigate(`/admin/${TABS[index].path}`)}
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
            <Route path="documents" element={<DocumentsPanel />} />
            <Route path="templates" element={<TemplatesPanel />} />
            <Route path="users" element={<UsersPanel />} />
            <Route path="system" element={<SystemPanel />} />
            <Route path="*" element={<Navigate to="documents" replace />} />
          </Routes>
        </Container>
      </Box>
    </Box>
  );
}
