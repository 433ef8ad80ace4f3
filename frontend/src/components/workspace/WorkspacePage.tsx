// The user's own tools beside the chat: API keys and batch jobs.
import { TabbedPage } from "../TabbedPage";
import { BatchesPanel } from "./BatchesPanel";
import { KeysPanel } from "./KeysPanel";

const TABS = [
  { path: "batches", label: "Batch jobs", element: <BatchesPanel /> },
  { path: "keys", label: "API keys", element: <KeysPanel /> },
];

export function WorkspacePage() {
  return <TabbedPage title="Workspace" area="workspace" base="/workspace" tabs={TABS} />;
}
