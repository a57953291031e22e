/*
 * Heartbeats are not events: an "up" host turns "down" when its last heartbeat gets
 * older than the limit, and nothing is sent when that happens. The admin lists ask
 * again when the first "up" row would expire (about one request per heartbeat window,
 * not a poll), and while a host is down once per window, so a worker that resumes
 * without restarting shows up again; a restarted worker announces itself
 * (service.started) and refreshes the lists at once. Times are taken on the server's
 * clock (`serverNow`), so a skewed browser clock cannot turn this into a tight loop.
 */

export interface HeartbeatRows {
  rows: Array<{ state: 'up' | 'down'; lastHeartbeat: string | null }>;
  /** The server's clock when it answered. */
  serverNow: string;
  /** A heartbeat older than this is "down". */
  downSeconds: number;
}

/** Never sooner than this, whatever the clocks say. */
export const MIN_RECHECK_MS = 5000;

/**
 * Milliseconds until the list should be read again, `elapsedMs` after the answer
 * arrived; null when nothing can change by itself (no rows).
 */
export function nextHeartbeatCheck(d: HeartbeatRows, elapsedMs: number): number | null {
  const window = d.downSeconds * 1000;
  const now = Date.parse(d.serverNow);
  let wait = Number.POSITIVE_INFINITY;
  for (const r of d.rows) {
    const beat = r.lastHeartbeat ? Date.parse(r.lastHeartbeat) : Number.NaN;
    if (r.state === 'down' || Number.isNaN(beat)) wait = Math.min(wait, window);
    // One second past the limit, so the server is sure to see it expired.
    else wait = Math.min(wait, beat + window + 1000 - now);
  }
  if (!Number.isFinite(wait)) return null;
  return Math.max(MIN_RECHECK_MS, wait - elapsedMs);
}
