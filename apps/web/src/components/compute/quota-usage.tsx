'use client';
import { useQuery } from '@tanstack/react-query';
import type { inferRouterOutputs } from '@trpc/server';
import { useTRPC } from '@/lib/trpc';
import type { AppRouter } from '@/server/routers';
import { Card, Spinner } from '../ui';
import { formatRam } from './status';

type Section = inferRouterOutputs<AppRouter>['admin']['projectQuotas'][number];
type Gauge = NonNullable<Section['gauges']>[number];

const fmt = (g: Gauge, n: number) => (g.unit === 'mb' ? formatRam(n) : g.unit === 'gb' ? `${n} GiB` : String(n));

/** A ring per resource, Horizon's "limit summary": used of limit, amber from 70 %, red from 90 %. */
function Ring({ g }: { g: Gauge }) {
  const unlimited = g.limit < 0;
  const pct = unlimited ? 0 : g.limit === 0 ? (g.used > 0 ? 100 : 0) : Math.min(100, (g.used / g.limit) * 100);
  const tone = pct >= 90 ? 'text-rose-500' : pct >= 70 ? 'text-amber-500' : 'text-sky-500';
  const r = 26;
  const c = 2 * Math.PI * r;
  return (
    <figure
      className="flex flex-col items-center gap-1.5 text-center"
      data-testid={`quota-${g.resource}`}
      data-used={g.used}
      data-limit={g.limit}
    >
      <svg viewBox="0 0 64 64" className="size-20 -rotate-90" aria-hidden="true">
        <circle cx="32" cy="32" r={r} fill="none" strokeWidth="7" className="stroke-slate-100 dark:stroke-slate-800" />
        {pct > 0 && (
          <circle
            cx="32"
            cy="32"
            r={r}
            fill="none"
            strokeWidth="7"
            strokeLinecap="round"
            stroke="currentColor"
            strokeDasharray={`${(pct / 100) * c} ${c}`}
            className={`${tone} transition-[stroke-dasharray] duration-500`}
          />
        )}
        <text
          x="32"
          y="32"
          transform="rotate(90 32 32)"
          textAnchor="middle"
          dominantBaseline="central"
          className="fill-slate-700 text-[13px] font-semibold dark:fill-slate-200"
        >
          {unlimited ? '∞' : pct > 0 && pct < 1 ? '<1%' : `${Math.round(pct)}%`}
        </text>
      </svg>
      <figcaption>
        <div className="text-sm font-medium">{g.label}</div>
        <div className="text-xs text-slate-500 tabular-nums">
          {fmt(g, g.used)} of {unlimited ? 'unlimited' : fmt(g, g.limit)}
        </div>
      </figcaption>
    </figure>
  );
}

/**
 * The project's quota usage per service (compute, network, block storage: the
 * projectQuotas procedure). Live: server, key pair, network, volume, snapshot and backup
 * events invalidate the query (lib/live.ts), so the rings move as resources come and go.
 */
export function QuotaUsage() {
  const trpc = useTRPC();
  const q = useQuery({ ...trpc.admin.projectQuotas.queryOptions(), retry: false });
  if (q.isLoading)
    return (
      <Card title="Quota usage">
        <Spinner className="size-5 text-sky-600" />
      </Card>
    );
  if (q.error || !q.data)
    return (
      <Card title="Quota usage">
        <p className="text-sm text-slate-500">{q.error?.message ?? 'No quota information.'}</p>
      </Card>
    );
  return (
    <div className="space-y-6">
      {q.data.map((s) => (
        <Card key={s.service} title={`${s.title} quota`}>
          <div data-testid={`quota-section-${s.service}`}>
            {s.gauges ? (
              <div className="grid grid-cols-2 gap-6 sm:grid-cols-3 xl:grid-cols-5">
                {s.gauges.map((g) => (
                  <Ring key={g.resource} g={g} />
                ))}
              </div>
            ) : (
              <p className="text-sm text-slate-500">{s.error}</p>
            )}
          </div>
        </Card>
      ))}
    </div>
  );
}
