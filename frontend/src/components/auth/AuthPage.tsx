import { Alert, Box, Button, Link, Paper, TextField, Typography } from "@mui/material";
import { useState, type FormEvent } from "react";
import { Link as RouterLink, useNavigate } from "react-router-dom";
import { useReturnPath } from "../../returnPath";
import { fieldErrors } from "../../api/errors";
import { useAuth } from "../../auth";
import { useAuthConfig } from "../../queries/auth";
import { takeSignOutReason } from "../../signedOut";
import { SsoSignIn } from "./SsoSignIn";

const MIN_PASSWORD = 8;

export function AuthPage({ mode }: { mode: "login" | "register" }) {
  const { login, register } = useAuth();
  const navigate = useNavigate();
  const returnPath = useReturnPath();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [email, setEmail] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [fields, setFields] = useState<Record<string, string>>({}); // each field's own problem
  const [signedOut] = useState(takeSignOutReason); // the server ended the last login: say why
  const [busy, setBusy] = useState(false);
  const registering = mode === "register";
  // unknown (not loaded, or no answer): offer it, and let the server's answer explain
  const config = useAuthConfig().data;
  const registrationOpen = config ? config.registration === "open" : true;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setFields({});
    if (registering && password.length < MIN_PASSWORD) {
      setFields({ password: `At least ${MIN_PASSWORD} characters (${password.length} now)` });
      return;
    }
    setBusy(true);
    try {
      if (registering) await register(username.trim(), password, email.trim() || undefined);
      else await login(username.trim(), password);
      navigate(returnPath);
    } catch (err) {
      const found = fieldErrors(err);
      setFields(found);
      if (!Object.keys(found).length) setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Box sx={{ minHeight: "100%", display: "grid", placeItems: "center", p: 2 }}>
      <Paper component="form" onSubmit={submit} sx={{ p: 4, width: "100%", maxWidth: 380, display: "flex", flexDirection: "column", gap: 2 }} elevation={2}>
        <Typography variant="h5" component="h1" sx={{ fontWeight: 700 }}>
          QueueChat
        </Typography>
        <Typography variant="body2" color="text.secondary">
          {registering ? "Create an account" : "Sign in to continue"}
        </Typography>
        {signedOut && !error && (
          <Alert severity="info" role="status">
            You were signed out: {signedOut}.
          </Alert>
        )}
        {error && (
          <Alert severity="error" role="alert">
            {error}
          </Alert>
        )}
        {!registering && <SsoSignIn />}
        <TextField
          label="Username"
          autoComplete="username"
          value={username}
          onChange={(e) => setUsername(e.target.value)}
          required
          autoFocus
          error={Boolean(fields.username)}
          helperText={fields.username}
        />
        <TextField
          label="Password"
          type="password"
          autoComplete={registering ? "new-password" : "current-password"}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
          error={Boolean(fields.password)}
          helperText={fields.password ?? (registering ? `At least ${MIN_PASSWORD} characters` : undefined)}
        />
        {registering && (
          <TextField
            label="Email (optional)"
            type="email"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            error={Boolean(fields.email)}
            helperText={fields.email}
          />
        )}
        <Button type="submit" variant="contained" size="large" disabled={busy}>
          {registering ? "Create account" : "Log in"}
        </Button>
        <Typography variant="body2">
          {registering ? (
            <>
              Have an account? <Link component={RouterLink} to="/login">Log in</Link>
            </>
          ) : registrationOpen ? (
            <>
              No account? <Link component={RouterLink} to="/register">Register</Link>
            </>
          ) : (
            <>No account? Ask an administrator to create one.</>
          )}
        </Typography>
      </Paper>
    </Box>
  );
}
