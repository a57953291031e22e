'use client';
import { useEffect, useState } from 'react';

interface Ready {
  ready: boolean;
  database: string;
  migrations: string;
  workers: number;
  checks: string[];
}

/** Shows /readyz; refreshed every few seconds until live events cover services. */
export function SystemStatus() {
  const [state, setState] = useState<Ready | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let alive = true;
    const load = async () => {
      try {
        const res = await fetch('/readyz', { cache: 'no-store' });
        const body = (await res.json()) as Ready;
        if (alive) {
          setState(body);
          setError(null);
        }
      } catch (e) {
        if (alive) setError((e as Error).message);
      }
    };
    void load();
    const t = setInterval(load, 5000);
    return () => {
      alive = false;
      clearInterval(t);
    };
  }, []);
  return (
    <section
      aria-label="Cloud status"
      className="rounded-xl border border-slate-200 bg-white p-5 shadow-xs dark:border-slate-800 dark:bg-slate-900"
    >
      <h2 className="mb-4 text-sm font-semibold">Cloud status</h2>
      {error && <p className="text-red-600">Cannot reach the API: {error}</p>}
      {!state && !error && <p className="text-slate-500">Loading…</p>}
      {state && (
        <dl className="grid grid-cols-2 gap-4 sm:grid-cols-4">
          <Item label="Status" value={state.ready ? 'Ready' : 'Not ready'} ok={state.ready} />
          <Item label="Database" value={state.database} ok={state.database === 'ok'} />
          <Item label="Migrations" value={state.migrations} ok={state.migrations === 'ok'} />
          <Item label="Workers up" value={String(state.workers)} ok={state.workers > 0} />
        </dl>
      )}
      {state && state.checks.length > 0 && (
        <ul className="mt-4 list-disc pl-6 text-sm text-amber-700 dark:text-amber-400">
          {state.checks.map((c) => (
            <li key={c}>{c}</li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Item({ label, value, ok }: { label: string; value: string; ok: boolean }) {
  return (
    <div>
      <dt className="text-xs font-medium uppercase tracking-wide text-slate-500 dark:text-slate-400">{label}</dt>
      <dd
        data-testid={`status-${label.toLowerCase().replace(/\s/g, '-')}`}
        className={`mt-1 text-lg font-semibold ${ok ? 'text-emerald-600 dark:text-emerald-400' : 'text-rose-600 dark:text-rose-400'}`}
      >
        {value}
      </dd>
    </div>
  );
}
