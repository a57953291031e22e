'use client';
import { useQuery } from '@tanstack/react-query';
import { useTRPC } from '@/lib/trpc';
import { Card, Spinner } from '../ui';
import { formatRam } from './status';

function Bar({ label, used, max, unit }: { label: string; used: number; max: number; unit?: (n: number) => string }) {
  const fmt = unit ?? String;
  const pct = max > 0 ? Math.min(100, (used / max) * 100) : 0;
  const tone = pct >= 90 ? 'bg-rose-500' : pct >= 70 ? 'bg-amber-500' : 'bg-sky-500';
  return (
    <div className="space-y-1.5" data-testid={`quota-${label.toLowerCase()}`}>
      <div className="flex items-baseline justify-between text-sm">
        <span className="font-medium">{label}</span>
        <span className="text-slate-500 tabular-nums">
          {fmt(used)} of {max < 0 ? 'unlimited' : fmt(max)}
        </span>
      </div>
      <div className="h-2 overflow-hidden rounded-full bg-slate-100 dark:bg-slate-800">
        <div
          className={`h-full rounded-full ${tone} transition-[width] duration-500`}
          style={{ width: `${max < 0 ? 0 : pct}%` }}
        />
      </div>
    </div>
  );
}

/** The project's compute quota as used/limit bars; live through `server.*` events. */
export function QuotaUsage() {
  const trpc = useTRPC();
  const q = useQuery({ ...trpc.compute.limits.queryOptions(), retry: false });
  return (
    <Card title="Compute quota">
      {q.isLoading ? (
        <Spinner className="size-5 text-sky-600" />
      ) : q.error || !q.data ? (
        <p className="text-sm text-slate-500">{q.error?.message ?? 'No quota information.'}</p>
      ) : (
        <div className="space-y-4">
          <Bar label="Instances" used={q.data.totalInstancesUsed} max={q.data.maxTotalInstances} />
          <Bar label="vCPUs" used={q.data.totalCoresUsed} max={q.data.maxTotalCores} />
          <Bar label="RAM" used={q.data.totalRAMUsed} max={q.data.maxTotalRAMSize} unit={formatRam} />
          <Bar label="Key pairs" used={q.data.totalKeyPairsUsed} max={q.data.maxTotalKeypairs} />
        </div>
      )}
    </Card>
  );
}
