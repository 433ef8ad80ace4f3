import { Box, CircularProgress } from "@mui/material";
import type { ReactNode } from "react";
import { Navigate, Route, Routes } from "react-router-dom";
import { useAuth } from "./auth";
import { AdminPage } from "./components/admin/AdminPage";
import { AuthPage } from "./components/auth/AuthPage";
import { ChatPage } from "./components/chat/ChatPage";
import { StreamingProvider } from "./streaming";

function RequireUser({ children, admin = false }: { children: ReactNode; admin?: boolean }) {
  const { user, loading } = useAuth();
  if (loading) {
    return (
      <Box sx={{ height: "100%", display: "grid", placeItems: "center" }}>
        <CircularProgress />
      </Box>
    );
  }
  if (!user) return <Navigate to="/login" replace />;
  if (admin && user.role !== "admin") return <Navigate to="/" replace />;
  return <>{children}</>;
}

export function App() {
  const { user } = useAuth();
  return (
    <StreamingProvider>
    <Routes>
      <Route path="/login" element={user ? <Navigate to="/" replace /> : <AuthPage mode="login" />} />
      <Route path="/register" element={user ? <Navigate to="/" replace /> : <AuthPage mode="register" />} />
      <Route path="/" element={<RequireUser><ChatPage /></RequireUser>} />
      <Route path="/c/:sessionId" element={<RequireUser><ChatPage /></RequireUser>} />
      <Route path="/admin/*" element={<RequireUser admin><AdminPage /></RequireUser>} />
      <Route path="*" element={<Navigate to="/" replace />} />
    </Routes>
    </StreamingProvider>
  );
}
