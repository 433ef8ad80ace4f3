// The chat list's sections: pinned chats, then by the day of their last activity.
import type { SessionOut } from "../../api/types";

export interface ChatGroup {
  label: string;
  sessions: SessionOut[];
}

const DAY_MS = 24 * 60 * 60 * 1000;
const monthYear = new Intl.DateTimeFormat("en", { month: "long", year: "numeric" });

/** Midnight (local time) starting the day of ``moment``. */
const startOfDay = (moment: Date) => new Date(moment.getFullYear(), moment.getMonth(), moment.getDate()).getTime();

/** The label of the section a chat last active at ``updated`` belongs to, seen at ``now``. */
export function dayLabel(updated: Date, now: Date): string {
  const days = Math.round((startOfDay(now) - startOfDay(updated)) / DAY_MS); // DST-safe: rounded
  if (days <= 0) return "Today";
  if (days === 1) return "Yesterday";
  if (days <= 7) return "Previous 7 days";
  if (days <= 30) return "Previous 30 days";
  return monthYear.format(updated);
}

const time = (moment: string | null | undefined) => (moment ? Date.parse(moment) : 0);

/** The order of the list: pinned chats first (the last pinned first), then by last activity
 * (the server's order too; kept here as the cached list changes). */
export const listOrder = (a: SessionOut, b: SessionOut) =>
  Number(!a.pinned_at) - Number(!b.pinned_at) ||
  time(b.pinned_at) - time(a.pinned_at) ||
  time(b.updated_at) - time(a.updated_at) ||
  b.id - a.id;

/** Sections in the list's order: "Pinned", then the date sections from today back. Empty
 * sections are left out. */
export function groupChats(sessions: SessionOut[], now: Date): ChatGroup[] {
  const groups: ChatGroup[] = [];
  const byLabel = new Map<string, ChatGroup>();
  for (const session of [...sessions].sort(listOrder)) {
    const label = session.pinned_at ? "Pinned" : dayLabel(new Date(session.updated_at), now);
    let group = byLabel.get(label);
    if (!group) {
      group = { label, sessions: [] };
      byLabel.set(label, group);
      groups.push(group);
    }
    group.sessions.push(session);
  }
  return groups;
}
