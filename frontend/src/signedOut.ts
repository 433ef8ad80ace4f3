// Why the server signed this tab out (a logout elsewhere, a deactivated account), kept until the
// sign-in page has shown it.
const KEY = "queuechat.signedOutReason";

export function rememberSignOut(reason: string): void {
  sessionStorage.setItem(KEY, reason);
}

export function takeSignOutReason(): string | null {
  const reason = sessionStorage.getItem(KEY);
  sessionStorage.removeItem(KEY);
  return reason;
}
