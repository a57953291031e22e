'use client';
import { useEffect, useState } from 'react';
import { Badge, Spinner } from '../ui';

/* How a server's state reads in lists and on its page: one place, so both agree. */

const POWER: Record<number, string> = {
  0: 'No state',
  1: 'Running',
  3: 'Paused',
  4: 'Shut down',
  6: 'Crashed',
  7: 'Suspended',
};
export const powerLabel = (p: number) => POWER[p] ?? `State ${p}`;

/** "block_device_mapping" → "Block device mapping". */
export const taskLabel = (t: string | null) =>
  t ? (t.charAt(0).toUpperCase() + t.slice(1)).replace(/[_-]/g, ' ') : null;

const BUSY = new Set(['BUILD', 'REBOOT', 'HARD_REBOOT', 'MIGRATING', 'REBUILD']);

export function ServerStatus({ status, taskState }: { status: string; taskState: string | null }) {
  const busy = BUSY.has(status) || Boolean(taskState);
  const tone =
    status === 'ACTIVE' && !taskState
      ? 'green'
      : status === 'ERROR'
        ? 'red'
        : status === 'SHUTOFF' || status === 'DELETED'
          ? 'slate'
          : busy
            ? 'sky'
            : 'amber';
  return (
    <span data-testid="server-status" data-status={status} className="inline-flex">
      <Badge tone={tone}>
        <span className="inline-flex items-center gap-1.5">
          {busy && status !== 'ERROR' ? (
            <Spinner className="size-3" />
          ) : (
            <span
              aria-hidden="true"
              className={`size-1.5 rounded-full ${tone === 'green' ? 'bg-emerald-500' : tone === 'red' ? 'bg-rose-500' : tone === 'amber' ? 'bg-amber-500' : 'bg-slate-400'}`}
            />
          )}
          {status}
        </span>
      </Badge>
    </span>
  );
}

export function PowerState({ value }: { value: number }) {
  return (
    <span className="inline-flex items-center gap-1.5 text-slate-600 dark:text-slate-300">
      <span
        aria-hidden="true"
        className={`size-1.5 rounded-full ${value === 1 ? 'bg-emerald-500' : value === 6 ? 'bg-rose-500' : 'bg-slate-300 dark:bg-slate-600'}`}
      />
      {powerLabel(value)}
    </span>
  );
}

/** Re-renders every `ms` so relative times stay right (a clock, not a data poll). */
export function useNow(ms = 30_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

export function age(iso: string, now: number): string {
  const s = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
  if (s < 60) return 'just now';
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} h`;
  return `${Math.round(h / 24)} days`;
}

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 && i > 0 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

export const formatRam = (mb: number) => (mb >= 1024 ? `${+(mb / 1024).toFixed(1)} GiB` : `${mb} MiB`);
