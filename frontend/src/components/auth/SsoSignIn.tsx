// Single sign-on on the login page: the provider's button (when the server has one), the end of
// a sign-in (the one-time code in the URL's fragment becomes tokens), and why one failed.
import { Alert, Button, Divider } from "@mui/material";
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { useNavigate } from "react-router-dom";
import { exchangeSsoCode } from "../../api/auth";
import { useApiClient } from "../../api/context";
import { authKeys, useAuthConfig } from "../../queries/auth";

const REASONS: Record<string, string> = {
  state_mismatch: "the answer did not belong to a sign-in started here (or it expired); try again",
  provider_unreachable: "the identity provider did not answer",
  account_disabled: "this account is disabled",
  forbidden: "this account is disabled",
};

export function ssoErrorText(code: string): string {
  const known = REASONS[code];
  if (known) return known;
  if (code.startsWith("invalid_id_token")) return "the identity provider's token was not valid for this site";
  if (code.startsWith("provider_error")) return `the identity provider refused (${code.split(":")[1] ?? "error"})`;
  return code;
}

export function SsoSignIn() {
  const config = useAuthConfig().data;
  const client = useApiClient();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(() => {
    const code = new URLSearchParams(window.location.search).get("sso_error");
    return code ? ssoErrorText(code) : null;
  });
  const started = useRef(false);

  useEffect(() => {
    const code = new URLSearchParams(window.location.hash.slice(1)).get("sso_code");
    if (!code || started.current) return;
    started.current = true;
    window.history.replaceState(null, "", window.location.pathname); // the code is used once
    exchangeSsoCode(client, code)
      .then(() => queryClient.invalidateQueries({ queryKey: authKeys.me }))
      .then(() => navigate("/"))
      .catch((err: Error) => setError(err.message));
  }, [client, queryClient, navigate]);

  if (!config?.sso_login_url && !error) return null;
  return (
    <>
      {error && (
        <Alert severity="error" role="alert">
          Single sign-on failed: {error}
        </Alert>
      )}
      {config?.sso_login_url && (
        <>
          <Button variant="outlined" size="large" href={config.sso_login_url}>
            Sign in with {config.sso_name}
          </Button>
          <Divider>or</Divider>
        </>
      )}
    </>
  );
}
