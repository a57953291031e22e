'use client';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import type { inferRouterOutputs } from '@trpc/server';
import Link from 'next/link';
import { useEffect, useState } from 'react';
import { allows, SERVER_ACTIONS, type ServerActionDef, useServerActions } from '@/components/compute/actions';
import { age, formatRam, ServerStatus, taskLabel, useNow } from '@/components/compute/status';
import { useMarkerPaging } from '@/lib/paging';
import { PAGE_SIZE, useInvalidate } from '@/lib/resource';
import { useTRPC } from '@/lib/trpc';
import type { AppRouter } from '@/server/routers';
import { Icon } from '../icons';
import { Menu, MenuItem } from '../menu';
import { ConfirmDialog } from '../modal';
import { Button, Input, Select, Spinner } from '../ui';

export type AdminServerRow = inferRouterOutputs<AppRouter>['admin']['instances']['list']['items'][number];

const STATUSES = ['ACTIVE', 'BUILD', 'SHUTOFF', 'ERROR', 'PAUSED', 'SUSPENDED', 'REBOOT', 'HARD_REBOOT'];
/** What an operator does to someone else's server from these lists; the rest is on the instance page. */
const ADMIN_ACTIONS = SERVER_ACTIONS.filter((a) =>
  ['start', 'stop', 'reboot_soft', 'reboot_hard', 'delete'].includes(a.id),
);

/**
 * Every project's servers (or one hypervisor's): filters and marker paging on the
 * server, live through server.* events (lib/live.ts invalidates admin.instances), and
 * the same state-gated actions as the project list, confirmed because they act on
 * another project's server.
 */
export function AdminServerTable({ hypervisorId }: { hypervisorId?: string }) {
  const trpc = useTRPC();
  const invalidate = useInvalidate();
  const now = useNow();
  const paging = useMarkerPaging();
  const [text, setText] = useState('');
  const [name, setName] = useState('');
  const [status, setStatus] = useState('');
  const [projectId, setProjectId] = useState('');
  const [host, setHost] = useState('');
  const [confirm, setConfirm] = useState<{ def: ServerActionDef; row: AdminServerRow } | null>(null);
  const { run, dialog } = useServerActions();

  useEffect(() => {
    const t = setTimeout(() => {
      if (text.trim() !== name) {
        setName(text.trim());
        paging.reset();
      }
    }, 300);
    return () => clearTimeout(t);
  }, [text, name, paging]);

  const filters = {
    name: name || undefined,
    status: status || undefined,
    projectId: projectId || undefined,
    marker: paging.marker,
    limit: PAGE_SIZE,
  };
  const all = useQuery({
    ...trpc.admin.instances.list.queryOptions({ ...filters, host: host || undefined }),
    placeholderData: keepPreviousData,
    enabled: !hypervisorId,
  });
  const onHost = useQuery({
    ...trpc.admin.instances.onHypervisor.queryOptions({ ...filters, hypervisorId: hypervisorId ?? '' }),
    placeholderData: keepPreviousData,
    enabled: Boolean(hypervisorId),
  });
  const query = hypervisorId ? onHost : all;
  const projects = useQuery(trpc.admin.projects.queryOptions());
  const hosts = useQuery({ ...trpc.admin.hypervisors.list.queryOptions(), enabled: !hypervisorId });
  const rows = query.data?.items;

  const act = async (def: ServerActionDef, row: AdminServerRow) => {
    await run(def, [row]);
    await invalidate(trpc.admin.instances.pathKey(), trpc.admin.hypervisors.pathKey());
  };
  const change = (set: (v: string) => void) => (e: { target: { value: string } }) => {
    set(e.target.value);
    paging.reset();
  };

  return (
    <div className="overflow-hidden rounded-xl border border-slate-200 bg-white shadow-xs dark:border-slate-800 dark:bg-slate-900">
      <div className="flex flex-wrap items-center gap-2 border-b border-slate-200 px-4 py-3 dark:border-slate-800">
        <div className="relative w-full max-w-xs">
          <span className="pointer-events-none absolute inset-y-0 left-2.5 flex items-center text-slate-400">
            <Icon name="search" className="size-4" />
          </span>
          <Input
            type="search"
            aria-label="Filter by name"
            placeholder="Filter by name"
            value={text}
            onChange={(e) => setText(e.target.value)}
            className="pl-8"
          />
        </div>
        <Select aria-label="Filter by project" value={projectId} onChange={change(setProjectId)} className="max-w-52">
          <option value="">Any project</option>
          {projects.data?.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </Select>
        {!hypervisorId && (
          <Select aria-label="Filter by host" value={host} onChange={change(setHost)} className="max-w-44">
            <option value="">Any host</option>
            {hosts.data?.hypervisors.map((h) => (
              <option key={h.id} value={h.host}>
                {h.host}
              </option>
            ))}
          </Select>
        )}
        <Select aria-label="Filter by status" value={status} onChange={change(setStatus)} className="max-w-40">
          <option value="">Any status</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </Select>
        <span className="inline-flex size-4 items-center" aria-hidden="true">
          {query.isFetching && !query.isLoading && <Spinner className="size-3.5 text-slate-400" />}
        </span>
      </div>
      <div className="overflow-x-auto">
        <table
          className="min-w-full divide-y divide-slate-200 text-sm dark:divide-slate-800"
          aria-label={hypervisorId ? 'Instances on this host' : 'All instances'}
        >
          <thead className="bg-slate-50 dark:bg-slate-900/80">
            <tr>
              {['Project', 'Name', 'Host', 'Status', 'Task', 'IP addresses', 'Flavor', 'Age'].map((h) => (
                <th
                  key={h}
                  scope="col"
                  className={`px-4 py-2.5 text-left text-xs font-semibold uppercase tracking-wide text-slate-500 dark:text-slate-400 ${h === 'IP addresses' || h === 'Flavor' ? 'hidden lg:table-cell' : ''}`}
                >
                  {h}
                </th>
              ))}
              <th scope="col" className="w-12 px-4 py-2.5">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100 dark:divide-slate-800/70">
            {query.isLoading && (
              <tr>
                <td colSpan={9} className="px-4 py-10 text-center">
                  <Spinner className="size-5 text-sky-600" />
                </td>
              </tr>
            )}
            {query.error && (
              <tr>
                <td colSpan={9} role="alert" className="px-4 py-6 text-center text-rose-600 dark:text-rose-400">
                  {query.error.message}
                </td>
              </tr>
            )}
            {rows?.length === 0 && (
              <tr>
                <td colSpan={9} className="px-4 py-12 text-center text-slate-500 dark:text-slate-400">
                  {name || status || projectId || host ? 'No instance matches these filters.' : 'No instances.'}
                </td>
              </tr>
            )}
            {rows?.map((r) => {
              const actions = ADMIN_ACTIONS.filter((a) => allows(a, r));
              return (
                <tr
                  key={r.id}
                  data-testid="admin-server-row"
                  data-server-id={r.id}
                  data-name={r.name}
                  data-project={r.projectName ?? r.projectId}
                  className="align-top hover:bg-slate-50/70 dark:hover:bg-slate-800/40"
                >
                  <td className="px-4 py-3 whitespace-nowrap" title={r.projectId}>
                    {r.projectName ?? <code className="text-xs">{r.projectId.slice(0, 8)}</code>}
                  </td>
                  <td className="max-w-xs px-4 py-3">
                    <Link
                      href={`/project/instances/${r.id}`}
                      className="font-medium whitespace-nowrap text-slate-900 hover:text-sky-600 dark:text-slate-100"
                    >
                      {r.name}
                    </Link>
                    {r.locked && <span className="ml-1.5 text-xs text-amber-600">locked</span>}
                    {r.status === 'ERROR' && r.fault && (
                      <p className="mt-1 text-xs break-words text-rose-600 dark:text-rose-400">{r.fault.message}</p>
                    )}
                  </td>
                  <td className="px-4 py-3 whitespace-nowrap text-slate-600 dark:text-slate-300">
                    {r.host ? (
                      hypervisorId ? (
                        r.host
                      ) : (
                        <Link href={`/admin/hypervisors/${encodeURIComponent(r.host)}`} className="hover:text-sky-600">
                          {r.host}
                        </Link>
                      )
                    ) : (
                      <span className="text-slate-400">—</span>
                    )}
                  </td>
                  <td className="px-4 py-3">
                    <ServerStatus status={r.status} taskState={r.taskState} />
                  </td>
                  <td className="px-4 py-3 whitespace-nowrap text-slate-600 dark:text-slate-300">
                    {taskLabel(r.taskState) ?? <span className="text-slate-400">—</span>}
                  </td>
                  <td className="hidden px-4 py-3 lg:table-cell">
                    {r.addresses.length ? (
                      <ul className="space-y-0.5 font-mono text-xs">
                        {r.addresses.map((a) => (
                          <li key={a.addr} title={a.network}>
                            {a.addr}
                          </li>
                        ))}
                      </ul>
                    ) : (
                      <span className="text-slate-400">—</span>
                    )}
                  </td>
                  <td className="hidden px-4 py-3 whitespace-nowrap lg:table-cell">
                    <div>{r.flavor.name}</div>
                    <div className="text-xs text-slate-500">
                      {r.flavor.vcpus} vCPU · {formatRam(r.flavor.ramMb)}
                    </div>
                  </td>
                  <td className="px-4 py-3 whitespace-nowrap text-slate-500" title={r.createdAt}>
                    {age(r.createdAt, now)}
                  </td>
                  <td className="px-4 py-2 text-right">
                    <Menu
                      label={`Actions for ${r.name}`}
                      button={<span className="text-lg leading-none">⋯</span>}
                      buttonClassName="rounded-md px-2 py-1 text-slate-500 hover:bg-slate-100 hover:text-slate-800 dark:hover:bg-slate-800 dark:hover:text-slate-100"
                    >
                      {(close) => (
                        <>
                          <MenuItem href={`/project/instances/${r.id}`}>Details</MenuItem>
                          {actions.map((a) => (
                            <MenuItem
                              key={a.id}
                              danger={a.danger}
                              onSelect={() => {
                                close();
                                // Delete has its own confirmation in useServerActions.
                                if (a.id === 'delete') void act(a, r);
                                else setConfirm({ def: a, row: r });
                              }}
                            >
                              {a.label}
                            </MenuItem>
                          ))}
                        </>
                      )}
                    </Menu>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {(paging.hasPrevious || query.data?.next) && (
        <nav
          aria-label="Pagination"
          className="flex items-center justify-between border-t border-slate-200 px-4 py-2.5 text-sm dark:border-slate-800"
        >
          <span className="text-slate-500 dark:text-slate-400">Page {paging.page}</span>
          <div className="flex gap-2">
            <Button onClick={paging.previous} disabled={!paging.hasPrevious}>
              Previous
            </Button>
            <Button onClick={() => query.data?.next && paging.next(query.data.next)} disabled={!query.data?.next}>
              Next
            </Button>
          </div>
        </nav>
      )}
      <ConfirmDialog
        open={confirm !== null}
        title={confirm ? `${confirm.def.label} instance` : ''}
        confirmLabel={confirm?.def.label ?? 'Confirm'}
        message={
          confirm && (
            <>
              {confirm.def.label} <strong>{confirm.row.name}</strong> of project{' '}
              <strong>{confirm.row.projectName ?? confirm.row.projectId}</strong>
              {confirm.row.host ? ` on ${confirm.row.host}` : ''}?
            </>
          )
        }
        onClose={() => setConfirm(null)}
        onConfirm={() => {
          if (!confirm) return;
          const { def, row } = confirm;
          setConfirm(null);
          void act(def, row);
        }}
      />
      {dialog}
    </div>
  );
}
