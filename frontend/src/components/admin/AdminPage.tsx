// The administration: one tab per area an admin looks after.
import { TabbedPage } from "../TabbedPage";
import { AuditPanel } from "./AuditPanel";
import { BudgetsPanel } from "./BudgetsPanel";
import { DocumentsPanel } from "./DocumentsPanel";
import { FeedbackPanel } from "./FeedbackPanel";
import { SystemPanel } from "./SystemPanel";
import { TemplatesPanel } from "./TemplatesPanel";
import { UsagePanel } from "./UsagePanel";
import { UsersPanel } from "./UsersPanel";

const TABS = [
  { path: "documents", label: "Documents", element: <DocumentsPanel /> },
  { path: "templates", label: "Templates", element: <TemplatesPanel /> },
  { path: "users", label: "Users", element: <UsersPanel /> },
  { path: "feedback", label: "Feedback", element: <FeedbackPanel /> },
  { path: "usage", label: "Usage", element: <UsagePanel /> },
  { path: "budgets", label: "Budgets", element: <BudgetsPanel /> },
  { path: "audit", label: "Audit log", element: <AuditPanel /> },
  { path: "system", label: "System", element: <SystemPanel /> },
];

export function AdminPage() {
  return <TabbedPage title="Administration" area="admin" base="/admin" tabs={TABS} />;
}
