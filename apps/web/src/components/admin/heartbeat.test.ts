import { describe, expect, it } from 'vitest';
import { MIN_RECHECK_MS, nextHeartbeatCheck } from './heartbeat';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

describe('nextHeartbeatCheck', () => {
  it('waits until the oldest "up" heartbeat would expire, on the server clock', () => {
    const d = {
      serverNow: at(40),
      downSeconds: 30,
      rows: [
        { state: 'up' as const, lastHeartbeat: at(35) },
        { state: 'up' as const, lastHeartbeat: at(30) },
      ],
    };
    // 30 + 30 s + 1 s − 40 s = 21 s, less the 2 s since the answer arrived.
    expect(nextHeartbeatCheck(d, 2000)).toBe(19_000);
  });

  it('re-checks a down host once per window', () => {
    const d = { serverNow: at(0), downSeconds: 30, rows: [{ state: 'down' as const, lastHeartbeat: at(0) }] };
    expect(nextHeartbeatCheck(d, 0)).toBe(30_000);
  });

  it('never asks sooner than the minimum, even for a heartbeat already past the limit', () => {
    const d = { serverNow: at(59), downSeconds: 30, rows: [{ state: 'up' as const, lastHeartbeat: at(0) }] };
    expect(nextHeartbeatCheck(d, 10_000)).toBe(MIN_RECHECK_MS);
  });

  it('has nothing to wait for without rows', () => {
    expect(nextHeartbeatCheck({ serverNow: at(0), downSeconds: 30, rows: [] }, 0)).toBeNull();
  });
});
