'use client';
import { useEffect } from 'react';
import { formatRam } from '../compute/status';
import { type HeartbeatRows, nextHeartbeatCheck } from './heartbeat';
import { Badge } from '../ui';

/* Capacity bars and host state for the admin panels (hypervisors, aggregates). */

export interface ResourceUsage {
  total: number;
  reserved: number;
  allocationRatio: number;
  capacity: number;
  used: number;
}

export const RESOURCE_LABELS: Record<string, { label: string; fmt: (n: number) => string }> = {
  VCPU: { label: 'vCPUs', fmt: String },
  MEMORY_MB: { label: 'RAM', fmt: formatRam },
  DISK_GB: { label: 'Disk', fmt: (n) => `${n} GB` },
};

export const toneFor = (pct: number) => (pct >= 90 ? 'bg-rose-500' : pct >= 70 ? 'bg-amber-500' : 'bg-sky-500');

/** A used-of-capacity bar; the caption says how capacity comes from total, reserved and ratio. */
export function ResourceBar({
  rc,
  usage,
  compact = false,
}: {
  rc: string;
  usage: ResourceUsage | undefined;
  compact?: boolean;
}) {
  const meta = RESOURCE_LABELS[rc] ?? { label: rc, fmt: String };
  if (!usage) {
    return (
      <div className="text-xs text-slate-400" data-testid={`usage-${rc}`}>
        {meta.label}: no inventory
      </div>
    );
  }
  const pct = usage.capacity > 0 ? Math.min(100, (usage.used / usage.capacity) * 100) : 0;
  const basis = `${meta.fmt(usage.total)} total${usage.reserved ? `, ${meta.fmt(usage.reserved)} reserved` : ''} × ${usage.allocationRatio} allocation ratio`;
  return (
    <div
      className="min-w-36 space-y-1"
      data-testid={`usage-${rc}`}
      data-used={usage.used}
      data-capacity={usage.capacity}
      title={basis}
    >
      <div className="flex items-baseline justify-between gap-3 text-xs">
        <span className="font-medium text-slate-700 dark:text-slate-200">{meta.label}</span>
        <span className="tabular-nums text-slate-500">
          {meta.fmt(usage.used)} / {meta.fmt(usage.capacity)}
        </span>
      </div>
      <div className="h-1.5 overflow-hidden rounded-full bg-slate-100 dark:bg-slate-800" aria-hidden="true">
        <div
          className={`h-full rounded-full ${toneFor(pct)} transition-[width] duration-500`}
          style={{ width: `${pct}%` }}
        />
      </div>
      {!compact && <div className="text-[11px] text-slate-400">{basis}</div>}
    </div>
  );
}

export function HostState({ state }: { state: 'up' | 'down' }) {
  return (
    <span data-testid="host-state" data-state={state} className="inline-flex">
      <Badge tone={state === 'up' ? 'green' : 'red'}>
        <span className="inline-flex items-center gap-1.5">
          <span
            aria-hidden="true"
            className={`size-1.5 rounded-full ${state === 'up' ? 'bg-emerald-500' : 'bg-rose-500'}`}
          />
          {state}
        </span>
      </Badge>
    </span>
  );
}

export function ServiceStatus({ status, reason }: { status: 'enabled' | 'disabled'; reason?: string | null }) {
  return (
    <span data-testid="service-status" data-status={status} className="inline-flex flex-col items-start gap-0.5">
      <Badge tone={status === 'enabled' ? 'sky' : 'amber'}>{status}</Badge>
      {status === 'disabled' && reason && (
        <span className="text-xs text-slate-500" data-testid="disabled-reason">
          {reason}
        </span>
      )}
    </span>
  );
}

/** Reads the list again when a heartbeat may have expired (see heartbeat.ts). */
export function useHeartbeatExpiry(data: HeartbeatRows | undefined, fetchedAt: number, refetch: () => unknown): void {
  useEffect(() => {
    if (!data) return;
    const delay = nextHeartbeatCheck(data, Date.now() - fetchedAt);
    if (delay === null) return;
    const t = setTimeout(() => void refetch(), delay);
    return () => clearTimeout(t);
  }, [data, fetchedAt, refetch]);
}
