// A page of tabs under the top bar, one route each (the administration, the workspace).
import { Box, Container, Tab, Tabs } from "@mui/material";
import type { ReactNode } from "react";
import { Navigate, Route, Routes, useLocation, useNavigate } from "react-router-dom";
import { TopBar } from "./TopBar";

export interface PageTab {
  path: string;
  label: string;
  element: ReactNode;
}

interface Props {
  title: string;
  area: Parameters<typeof TopBar>[0]["area"];
  /** where the page is mounted, e.g. "/admin"; the first tab is the default */
  base: string;
  tabs: PageTab[];
}

export function TabbedPage({ title, area, base, tabs }: Props) {
  const location = useLocation();
  const navigate = useNavigate();
  const current = tabs.findIndex((tab) => location.pathname.startsWith(`${base}/${tab.path}`));
  return (
    <Box sx={{ display: "flex", flexDirection: "column", height: "100%" }}>
      <TopBar title={title} area={area} />
      <Box sx={{ borderBottom: 1, borderColor: "divider", bgcolor: "background.paper" }}>
        <Tabs
          value={current === -1 ? 0 : current}
          onChange={(_, index: number) => navigate(`${base}/${tabs[index].path}`)}
          variant="scrollable"
          allowScrollButtonsMobile
        >
          {tabs.map((tab) => (
            <Tab key={tab.path} label={tab.label} />
          ))}
        </Tabs>
      </Box>
      <Box sx={{ flex: 1, overflowY: "auto" }}>
        <Container maxWidth="lg" sx={{ py: 3 }}>
          <Routes>
            {tabs.map((tab) => (
              <Route key={tab.path} path={tab.path} element={tab.element} />
            ))}
            <Route path="*" element={<Navigate to={tabs[0].path} replace />} />
          </Routes>
        </Container>
      </Box>
    </Box>
  );
}
