import AdminPanelSettingsOutlinedIcon from "@mui/icons-material/AdminPanelSettingsOutlined";
import ChatOutlinedIcon from "@mui/icons-material/ChatOutlined";
import InsightsOutlinedIcon from "@mui/icons-material/InsightsOutlined";
import DarkModeOutlinedIcon from "@mui/icons-material/DarkModeOutlined";
import LightModeOutlinedIcon from "@mui/icons-material/LightModeOutlined";
import LogoutIcon from "@mui/icons-material/Logout";
import MenuIcon from "@mui/icons-material/Menu";
import DatasetOutlinedIcon from "@mui/icons-material/DatasetOutlined";
import { AppBar, Box, IconButton, Toolbar, Tooltip, Typography } from "@mui/material";
import { Link as RouterLink, useNavigate } from "react-router-dom";
import { useAuth } from "../auth";
import { useColorMode } from "../theme";

interface Props {
  title: string;
  onMenu?: () => void;
  area: "chat" | "admin" | "workspace" | "usage";
}

export function TopBar({ title, onMenu, area }: Props) {
  const { user, logout } = useAuth();
  const { mode, toggle } = useColorMode();
  const navigate = useNavigate();
  return (
    <AppBar position="static" color="default" elevation={0} sx={{ borderBottom: 1, borderColor: "divider", bgcolor: "background.paper" }}>
      <Toolbar variant="dense" sx={{ gap: 1 }}>
        {onMenu && (
          <IconButton edge="start" aria-label="Open chats" onClick={onMenu}>
            <MenuIcon />
          </IconButton>
        )}
        <Typography variant="subtitle1" noWrap sx={{ fontWeight: 700, flexShrink: 0 }}>
          QueueChat
        </Typography>
        <Typography variant="body2" color="text.secondary" noWrap sx={{ flex: 1, minWidth: 0 }} data-testid="chat-title">
          {title}
        </Typography>
        <Box sx={{ display: "flex", alignItems: "center" }}>
          {user?.role === "admin" && area === "chat" && (
            <Tooltip title="Admin">
              <IconButton component={RouterLink} to="/admin" aria-label="Admin">
                <AdminPanelSettingsOutlinedIcon />
              </IconButton>
            </Tooltip>
          )}
          {area === "chat" && (
            <Tooltip title="API keys and batch jobs">
              <IconButton component={RouterLink} to="/workspace" aria-label="Workspace">
                <DatasetOutlinedIcon />
              </IconButton>
            </Tooltip>
          )}
          {area === "chat" && (
            <Tooltip title="Your usage">
              <IconButton component={RouterLink} to="/usage" aria-label="Usage">
                <InsightsOutlinedIcon />
              </IconButton>
            </Tooltip>
          )}
          {area !== "chat" && (
            <Tooltip title="Back to chat">
              <IconButton component={RouterLink} to="/" aria-label="Chat">
                <ChatOutlinedIcon />
              </IconButton>
            </Tooltip>
          )}
          <Tooltip title={mode === "dark" ? "Light mode" : "Dark mode"}>
            <IconButton onClick={toggle} aria-label="Toggle dark mode">
              {mode === "dark" ? <LightModeOutlinedIcon /> : <DarkModeOutlinedIcon />}
            </IconButton>
          </Tooltip>
          <Typography variant="body2" color="text.secondary" sx={{ mx: 1, display: { xs: "none", sm: "block" } }}>
            {user?.username}
          </Typography>
          <Tooltip title="Log out">
            <IconButton
              aria-label="Log out"
              onClick={async () => {
                await logout();
                navigate("/login");
              }}
            >
              <LogoutIcon />
            </IconButton>
          </Tooltip>
        </Box>
      </Toolbar>
    </AppBar>
  );
}
