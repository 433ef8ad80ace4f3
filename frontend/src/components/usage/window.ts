// Report windows: the last N days, in UTC like the server's days.
export const WINDOWS = [7, 30, 90] as const;

export function lastDays(days: number, now: Date = new Date()): { start: string; end: string } {
  const end = now.toISOString().slice(0, 10);
  const start = new Date(now.getTime() - (days - 1) * 86_400_000).toISOString().slice(0, 10);
  return { start, end };
}
