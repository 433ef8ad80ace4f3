import type { SessionOut } from "../../api/types";
import { dayLabel, groupChats } from "./chatGroups";

const chat = (id: number, updated: string, pinned: string | null = null) =>
  ({ id, title: `chat ${id}`, updated_at: updated, created_at: updated, pinned_at: pinned }) as SessionOut;

describe("chat groups", () => {
  const now = new Date(2026, 11, 3, 9, 30); // 3 December 2026, 09:30 local time

  it("labels a day by how long ago it was, in local days", () => {
    expect(dayLabel(new Date(2026, 11, 3, 0, 5), now)).toBe("Today");
    expect(dayLabel(new Date(2026, 11, 2, 23, 59), now)).toBe("Yesterday");
    expect(dayLabel(new Date(2026, 10, 26, 12), now)).toBe("Previous 7 days");
    expect(dayLabel(new Date(2026, 10, 25, 12), now)).toBe("Previous 30 days");
    expect(dayLabel(new Date(2026, 10, 3, 12), now)).toBe("Previous 30 days");
    expect(dayLabel(new Date(2026, 10, 2, 12), now)).toBe("November 2026");
    expect(dayLabel(new Date(2025, 11, 31), now)).toBe("December 2025");
  });

  it("puts pinned chats first, last pinned first, then the days from today back", () => {
    const at = (d: number, h = 12) => new Date(2026, 11, d, h).toISOString();
    const groups = groupChats(
      [
        chat(1, at(3, 8)),
        chat(2, new Date(2026, 8, 1).toISOString()),
        chat(3, at(2), at(1)),
        chat(4, at(3, 9)),
        chat(5, at(1), at(2)),
        chat(6, at(2)),
      ],
      now,
    );
    expect(groups.map((g) => [g.label, g.sessions.map((s) => s.id)])).toEqual([
      ["Pinned", [5, 3]],
      ["Today", [4, 1]],
      ["Yesterday", [6]],
      ["September 2026", [2]],
    ]);
  });
});
