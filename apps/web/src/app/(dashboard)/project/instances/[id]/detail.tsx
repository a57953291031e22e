'use client';
import { canDo } from '@stratus/core/compute/state';
import { useMutation, useQuery } from '@tanstack/react-query';
import type { inferRouterOutputs } from '@trpc/server';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { type ReactNode, useCallback, useEffect, useRef, useState } from 'react';
import { allows, SERVER_ACTIONS, type ServerRow, useServerActions } from '@/components/compute/actions';
import { InstanceVolumes } from '@/components/compute/instance-volumes';
import { age, formatRam, PowerState, ServerStatus, taskLabel, useNow } from '@/components/compute/status';
import { ConsoleLog as LiveConsoleLog, SerialConsole, VncConsole } from '@/components/console';
import { Icon } from '@/components/icons';
import { Menu, MenuItem } from '@/components/menu';
import { Badge, Button, Card, Spinner } from '@/components/ui';
import { useTRPC } from '@/lib/trpc';
import type { AppRouter } from '@/server/routers';

type Action = inferRouterOutputs<AppRouter>['compute']['servers']['actions'][number];
const TABS = ['Overview', 'Volumes', 'Action log', 'Console log', 'Console', 'Serial'] as const;
type Tab = (typeof TABS)[number];

/** One instance: overview, attached volumes, the live task timeline, its console log and both consoles. */
export function InstanceDetail({ id }: { id: string }) {
  const trpc = useTRPC();
  const router = useRouter();
  const [tab, setTab] = useState<Tab>('Overview');
  const server = useQuery(trpc.compute.servers.get.queryOptions({ serverId: id }));
  const { run, dialog } = useServerActions({ onDeleted: () => router.push('/project/instances') });
  const s = server.data;

  if (server.isLoading) return <Spinner className="size-6 text-sky-600" />;
  if (server.error || !s)
    return (
      <div className="space-y-3">
        <p role="alert" className="text-rose-600">
          {server.error?.message ?? 'Instance not found.'}
        </p>
        <Link href="/project/instances" className="text-sm text-sky-600">
          ← Instances
        </Link>
      </div>
    );
  const actions = SERVER_ACTIONS.filter((a) => allows(a, s));
  const primary = actions.filter((a) => a.id === 'start' || a.id === 'stop' || a.id === 'reboot_soft');
  return (
    <>
      <nav className="mb-2 text-sm text-slate-500">
        <Link href="/project/instances" className="hover:text-sky-600">
          Instances
        </Link>{' '}
        <span aria-hidden="true">/</span> {s.name}
      </nav>
      <div className="mb-6 flex flex-col gap-4 sm:flex-row sm:items-start sm:justify-between">
        <div>
          <h1 className="flex items-center gap-3 text-2xl font-semibold tracking-tight">
            {s.name} <ServerStatus status={s.status} taskState={s.taskState} />
          </h1>
          <p className="mt-1 font-mono text-xs text-slate-500">{s.id}</p>
        </div>
        <div className="flex shrink-0 gap-2">
          {primary.map((a) => (
            <Button key={a.id} onClick={() => void run(a, [s])}>
              {a.label}
            </Button>
          ))}
          <Menu
            label="More actions"
            button={
              <span className="flex items-center gap-1">
                More <Icon name="chevron" className="size-4" />
              </span>
            }
            buttonClassName="inline-flex items-center rounded-lg bg-white px-3 py-1.5 text-sm font-medium text-slate-700 shadow-xs ring-1 ring-inset ring-slate-300 hover:bg-slate-50 dark:bg-slate-800 dark:text-slate-200 dark:ring-slate-700"
          >
            {(close) =>
              actions.length ? (
                actions.map((a) => (
                  <MenuItem
                    key={a.id}
                    danger={a.danger}
                    onSelect={() => {
                      close();
                      void run(a, [s]);
                    }}
                  >
                    {a.label}
                  </MenuItem>
                ))
              ) : (
                <p className="px-3 py-2 text-sm text-slate-500">No action is possible in this state.</p>
              )
            }
          </Menu>
        </div>
      </div>
      {s.status === 'ERROR' && s.fault && (
        <div
          role="alert"
          className="mb-6 rounded-xl border border-rose-200 bg-rose-50 p-4 dark:border-rose-500/30 dark:bg-rose-500/10"
        >
          <p className="text-sm font-semibold text-rose-700 dark:text-rose-300">
            The instance failed: {s.fault.message}
          </p>
          {s.fault.details && (
            <pre className="mt-2 max-h-40 overflow-auto text-xs whitespace-pre-wrap text-rose-700/80 dark:text-rose-300/80">
              {s.fault.details}
            </pre>
          )}
        </div>
      )}
      <div
        role="tablist"
        aria-label="Instance"
        className="mb-4 flex gap-1 border-b border-slate-200 dark:border-slate-800"
      >
        {TABS.map((t) => (
          <button
            key={t}
            role="tab"
            type="button"
            aria-selected={tab === t}
            onClick={() => setTab(t)}
            className={`-mb-px border-b-2 px-3 py-2 text-sm font-medium transition ${
              tab === t
                ? 'border-sky-600 text-sky-700 dark:text-sky-400'
                : 'border-transparent text-slate-500 hover:text-slate-800 dark:hover:text-slate-200'
            }`}
          >
            {t}
          </button>
        ))}
      </div>
      <div role="tabpanel">
        {tab === 'Overview' && <Overview s={s} />}
        {tab === 'Volumes' && <InstanceVolumes server={s} />}
        {tab === 'Action log' && <ActionLog serverId={s.id} />}
        {tab === 'Console log' && <ConsoleLog s={s} />}
        {tab === 'Console' && <RemoteConsole s={s} protocol="vnc" />}
        {tab === 'Serial' && <RemoteConsole s={s} protocol="serial" />}
      </div>
      {dialog}
    </>
  );
}

function Prop({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="grid grid-cols-3 gap-4 py-2 text-sm">
      <dt className="text-slate-500 dark:text-slate-400">{label}</dt>
      <dd className="col-span-2 min-w-0 break-words">{children ?? <span className="text-slate-400">—</span>}</dd>
    </div>
  );
}

function Overview({ s }: { s: ServerRow }) {
  const trpc = useTRPC();
  const now = useNow();
  const image = useQuery({
    ...trpc.image.images.get.queryOptions({ imageId: s.imageId }),
    enabled: Boolean(s.imageId),
    retry: false,
  });
  return (
    <div className="grid gap-6 lg:grid-cols-2">
      <Card title="Instance">
        <dl className="divide-y divide-slate-100 dark:divide-slate-800">
          <Prop label="Status">
            <ServerStatus status={s.status} taskState={s.taskState} />
          </Prop>
          <Prop label="Task">{taskLabel(s.taskState)}</Prop>
          <Prop label="Power state">
            <PowerState value={s.powerState} />
          </Prop>
          <Prop label="VM state">
            <code className="text-xs">{s.vmState}</code>
          </Prop>
          <Prop label="Created">{`${age(s.createdAt, now)} ago · ${s.createdAt.replace('T', ' ').slice(0, 19)} UTC`}</Prop>
          <Prop label="Launched">{s.launchedAt ? `${s.launchedAt.replace('T', ' ').slice(0, 19)} UTC` : null}</Prop>
          <Prop label="Host">{s.host}</Prop>
          <Prop label="Availability zone">{s.availabilityZone}</Prop>
          <Prop label="Locked">{s.locked ? `Yes${s.lockedReason ? ` — ${s.lockedReason}` : ''}` : 'No'}</Prop>
        </dl>
      </Card>
      <div className="space-y-6">
        <Card title="Specs">
          <dl className="divide-y divide-slate-100 dark:divide-slate-800">
            <Prop label="Flavor">
              {s.flavor.name}{' '}
              <span className="text-slate-500">
                · {s.flavor.vcpus} vCPU · {formatRam(s.flavor.ramMb)} · {s.flavor.diskGb} GB disk
              </span>
            </Prop>
            <Prop label="Image">
              {s.imageId ? (
                <Link className="text-sky-600 hover:underline" href={`/project/images/${s.imageId}`}>
                  {image.data?.name ?? s.imageId}
                </Link>
              ) : (
                'Booted from a volume (see Volumes)'
              )}
            </Prop>
            <Prop label="Key pair">{s.keyName}</Prop>
            <Prop label="Server group">{s.serverGroupId}</Prop>
          </dl>
        </Card>
        <Card title="IP addresses">
          {s.addresses.length ? (
            <ul className="space-y-1.5 text-sm">
              {s.addresses.map((a) => (
                <li key={a.addr} className="flex items-center gap-2">
                  <code>{a.addr}</code>
                  <Badge tone={a.type === 'floating' ? 'sky' : 'slate'}>{a.type}</Badge>
                  <span className="text-xs text-slate-500">{a.network}</span>
                </li>
              ))}
            </ul>
          ) : (
            <p className="text-sm text-slate-500">No network interface.</p>
          )}
        </Card>
        {Object.keys(s.metadata).length > 0 && (
          <Card title="Metadata">
            <dl className="divide-y divide-slate-100 dark:divide-slate-800">
              {Object.entries(s.metadata).map(([k, v]) => (
                <Prop key={k} label={k}>
                  {v}
                </Prop>
              ))}
            </dl>
          </Card>
        )}
      </div>
    </div>
  );
}

const EVENT_LABEL: Record<string, string> = {
  compute_schedule: 'Scheduling',
  compute_networking: 'Networking',
  compute_allocate_network: 'Networking',
  compute_block_device_mapping: 'Block device mapping',
  compute_spawn: 'Spawning',
  compute_terminate_instance: 'Terminating',
};
const eventLabel = (e: string) =>
  EVENT_LABEL[e] ?? taskLabel(e.replace(/^compute_/, '').replace(/_instance$/, '')) ?? e;

function duration(a: string, b: string | null, now: number): string {
  const ms = (b ? new Date(b).getTime() : now) - new Date(a).getTime();
  if (ms < 1000) return `${Math.max(0, ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

function ActionLog({ serverId }: { serverId: string }) {
  const trpc = useTRPC();
  const list = useQuery(trpc.compute.servers.actions.queryOptions({ serverId }));
  if (list.isLoading) return <Spinner className="size-5 text-sky-600" />;
  if (list.error)
    return (
      <p role="alert" className="text-rose-600">
        {list.error.message}
      </p>
    );
  return (
    <ol className="space-y-4" data-testid="action-log">
      {list.data?.map((a, i) => (
        <ActionItem key={a.id} serverId={serverId} a={a} expanded={i < 3} />
      ))}
    </ol>
  );
}

function ActionItem({ serverId, a, expanded }: { serverId: string; a: Action; expanded: boolean }) {
  const trpc = useTRPC();
  const now = useNow(1000);
  const [open, setOpen] = useState(expanded);
  const detail = useQuery({
    ...trpc.compute.servers.actionEvents.queryOptions({ serverId, requestId: a.requestId }),
    enabled: open,
  });
  const events = detail.data?.events ?? [];
  const failed = events.some((e) => e.result === 'Error');
  return (
    <li className="rounded-xl border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
      <button
        type="button"
        onClick={() => setOpen((o) => !o)}
        aria-expanded={open}
        className="flex w-full items-center justify-between gap-3 px-4 py-3 text-left"
      >
        <span className="flex items-center gap-2">
          <span className="font-medium capitalize">{a.action.replace(/_/g, ' ')}</span>
          {!a.finishTime ? (
            <Badge tone="sky">in progress</Badge>
          ) : failed ? (
            <Badge tone="red">failed</Badge>
          ) : (
            <Badge tone="green">done</Badge>
          )}
          {a.message && <span className="text-xs text-rose-600">{a.message}</span>}
        </span>
        <span className="text-xs text-slate-500">
          {a.startTime.replace('T', ' ').slice(0, 19)} UTC · {duration(a.startTime, a.finishTime, now)}
        </span>
      </button>
      {open && (
        <div className="border-t border-slate-100 px-4 py-3 dark:border-slate-800">
          {detail.isLoading ? (
            <Spinner className="size-4 text-sky-600" />
          ) : events.length === 0 ? (
            <p className="text-sm text-slate-500">No events recorded yet.</p>
          ) : (
            <ol className="relative ml-2 space-y-3 border-l border-slate-200 pl-5 dark:border-slate-700">
              {events.map((e) => (
                <li key={e.event} className="relative" data-testid="action-event" data-event={e.event}>
                  <span
                    className={`absolute top-1 -left-[27px] grid size-3.5 place-items-center rounded-full ring-4 ring-white dark:ring-slate-900 ${
                      e.result === 'Error' ? 'bg-rose-500' : e.finishTime ? 'bg-emerald-500' : 'bg-sky-500'
                    }`}
                  >
                    {!e.finishTime && <span className="size-3.5 animate-ping rounded-full bg-sky-400 opacity-60" />}
                  </span>
                  <div className="flex flex-wrap items-baseline justify-between gap-2">
                    <span className="text-sm font-medium">{eventLabel(e.event)}</span>
                    <span className="text-xs text-slate-500 tabular-nums">
                      {e.finishTime ? (e.result ?? 'done') : 'running'} · {duration(e.startTime, e.finishTime, now)}
                      {e.host ? ` · ${e.host}` : ''}
                    </span>
                  </div>
                  {e.details && (
                    <p
                      className={`mt-0.5 text-xs ${e.result === 'Error' ? 'text-rose-600 dark:text-rose-400' : 'text-slate-500'}`}
                    >
                      {e.details}
                    </p>
                  )}
                  {e.traceback && (
                    <pre className="mt-1 max-h-32 overflow-auto rounded bg-slate-50 p-2 text-[11px] dark:bg-slate-950">
                      {e.traceback}
                    </pre>
                  )}
                </li>
              ))}
            </ol>
          )}
        </div>
      )}
    </li>
  );
}

function ConsoleLog({ s }: { s: ServerRow }) {
  const allowed = canDo('console_output', s).ok && Boolean(s.host);
  if (!allowed)
    return <p className="text-sm text-slate-500">The console log is available once the instance runs on a host.</p>;
  // The tail, "show full log" and live follow of the guest's serial output (components/console/ConsoleLog).
  return <LiveConsoleLog serverId={s.id} />;
}

function RemoteConsole({ s, protocol }: { s: ServerRow; protocol: 'vnc' | 'serial' }) {
  const trpc = useTRPC();
  const create = useMutation(trpc.compute.console.create.mutationOptions());
  const [token, setToken] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const ready = canDo('vnc_console', s).ok;
  const fresh = useCallback(
    async () => (await create.mutateAsync({ serverId: s.id, protocol })).token,
    [create, s.id, protocol],
  );
  const started = useRef(false);
  useEffect(() => {
    if (!ready || started.current) return;
    started.current = true;
    fresh().then(setToken, (e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, [ready, fresh]);
  if (!ready) return <p className="text-sm text-slate-500">The console is available while the instance is ACTIVE.</p>;
  if (error)
    return (
      <p role="alert" className="text-sm text-rose-600">
        {error}
      </p>
    );
  if (!token) return <Spinner className="size-5 text-sky-600" />;
  return protocol === 'vnc' ? (
    <VncConsole token={token} onRequestNewToken={fresh} />
  ) : (
    <SerialConsole token={token} onRequestNewToken={fresh} />
  );
}
