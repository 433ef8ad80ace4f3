import { useLocation } from "react-router-dom";

/** Where a sign-in goes: the page that sent the user to it (a shared link, a chat's address),
 * else the chat. Only a path of this site: never another origin. */
export function useReturnPath(): string {
  const from = (useLocation().state as { from?: unknown } | null)?.from;
  return typeof from === "string" && from.startsWith("/") && !from.startsWith("//") ? from : "/";
}
