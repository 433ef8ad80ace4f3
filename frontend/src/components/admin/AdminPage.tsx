import { Box, Container, Tab, Tabs } from "@mui/material";
import { Navigate, Route, Routes, useLocation, useNavigate } from "react-router-dom";
import { TopBar } from "../TopBar";
import { AuditPanel } from "./AuditPanel";
import { BudgetsPanel } from "./BudgetsPanel";
import { DocumentsPanel } from "./DocumentsPanel";
import { FeedbackPanel } from "./FeedbackPanel";
import { SystemPanel } from "./SystemPanel";
import { TemplatesPanel } from "./TemplatesPanel";
import { UsagePanel } from "./UsagePanel";
import { UsersPanel } from "./UsersPanel";

const TABS = [
  { path: "documents", label: "Documents" },
  { path: "templates", label: "Templates" },
  { path: "users", label: "Users" },
  { path: "feedback", label: "Feedback" },
  { path: "usage", label: "Usage" },
  { path: "budgets", label: "Budgets" },
  { path: "audit", label: "Audit log" },
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
            <Route path="feedback" element={<FeedbackPanel />} />
            <Route path="usage" element={<UsagePanel />} />
            <Route path="budgets" element={<BudgetsPanel />} />
            <Route path="audit" element={<AuditPanel />} />
            <Route path="system" element={<SystemPanel />} />
            <Route path="*" element={<Navigate to="documents" replace />} />
          </Routes>
        </Container>
      </Box>
    </Box>
  );
}
