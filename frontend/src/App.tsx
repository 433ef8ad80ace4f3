import { Box, CircularProgress } from "@mui/material";
import { lazy, Suspense, type ReactNode } from "react";
import { Navigate, Route, Routes, useLocation } from "react-router-dom";
import { useAuth } from "./auth";
import { useReturnPath } from "./returnPath";
import { AuthPage } from "./components/auth/AuthPage";
import { ChatPage } from "./components/chat/ChatPage";
import { StreamingProvider } from "./streaming";

// the admin, workspace and usage screens (and their charts) load when first opened: the chat
// a user lands on does not wait for them
const AdminPage = lazy(() => import("./components/admin/AdminPage").then((m) => ({ default: m.AdminPage })));
const WorkspacePage = lazy(() =>
  import("./components/workspace/WorkspacePage").then((m) => ({ default: m.WorkspacePage })),
);
const SharedChatPage = lazy(() =>
  import("./components/chat/SharedChatPage").then((m) => ({ default: m.SharedChatPage })),
);
const UsagePage = lazy(() => import("./components/usage/UsagePage").then((m) => ({ default: m.UsagePage })));

function RequireUser({ children, admin = false }: { children: ReactNode; admin?: boolean }) {
  const { user, loading } = useAuth();
  const location = useLocation();
  if (loading) return <Loading />;
  // signed in, the user comes back here (a shared link, a chat's address)
  if (!user) return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  if (admin && user.role !== "admin") return <Navigate to="/" replace />;
  return <Suspense fallback={<Loading />}>{children}</Suspense>;
}

function SignedIn() {
  return <Navigate to={useReturnPath()} replace />;
}

function Loading() {
  return (
    <Box sx={{ height: "100%", display: "grid", placeItems: "center" }}>
      <CircularProgress />
    </Box>
  );
}

export function App() {
  const { user } = useAuth();
  return (
    <StreamingProvider>
    <Routes>
      <Route path="/login" element={user ? <SignedIn /> : <AuthPage mode="login" />} />
      <Route path="/register" element={user ? <SignedIn /> : <AuthPage mode="register" />} />
      <Route path="/" element={<RequireUser><ChatPage /></RequireUser>} />
      <Route path="/c/:sessionId" element={<RequireUser><ChatPage /></RequireUser>} />
      <Route path="/workspace/*" element={<RequireUser><WorkspacePage /></RequireUser>} />
      <Route path="/s/:token" element={<RequireUser><SharedChatPage /></RequireUser>} />
      <Route path="/usage" element={<RequireUser><UsagePage /></RequireUser>} />
      <Route path="/admin/*" element={<RequireUser admin><AdminPage /></RequireUser>} />
      <Route path="*" element={<Navigate to="/" replace />} />
    </Routes>
    </StreamingProvider>
  );
}
