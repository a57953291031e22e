'use client';
import { useQuery } from '@tanstack/react-query';
import type { inferRouterOutputs } from '@trpc/server';
import Link from 'next/link';
import { useState } from 'react';
import { SERVER_ACTIONS, type ServerActionDef, useServerActions } from '@/components/compute/actions';
import {
  SERVER_STATUSES,
  serverActions,
  serverActionsLabel,
  serverColumns,
  serverRowProps,
} from '@/components/compute/server-list';
import { useNow } from '@/components/compute/status';
import { useInvalidate } from '@/lib/resource';
import { useTRPC } from '@/lib/trpc';
import type { AppRouter } from '@/server/routers';
import { DataTable, FilterSelect, Refreshing, useListFilters } from '../data-table';
import { ConfirmDialog } from '../modal';

export type AdminServerRow = inferRouterOutputs<AppRouter>['admin']['instances']['list']['items'][number];

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
  const list = useListFilters({ status: '', projectId: '', host: '' });
  const [confirm, setConfirm] = useState<{ def: ServerActionDef; row: AdminServerRow } | null>(null);
  const { run, dialog } = useServerActions();

  const filters = {
    ...list.input,
    status: list.values.status || undefined,
    projectId: list.values.projectId || undefined,
  };
  const all = useQuery({
    ...trpc.admin.instances.list.queryOptions({ ...filters, host: list.values.host || undefined }),
    ...list.keep,
    enabled: !hypervisorId,
  });
  const onHost = useQuery({
    ...trpc.admin.instances.onHypervisor.queryOptions({ ...filters, hypervisorId: hypervisorId ?? '' }),
    ...list.keep,
    enabled: Boolean(hypervisorId),
  });
  const query = hypervisorId ? onHost : all;
  const projects = useQuery(trpc.admin.projects.queryOptions());
  const hosts = useQuery({ ...trpc.admin.hypervisors.list.queryOptions(), enabled: !hypervisorId });
  const col = serverColumns<AdminServerRow>(now);

  const act = async (def: ServerActionDef, row: AdminServerRow) => {
    await run(def, [row]);
    await invalidate(trpc.admin.instances.pathKey(), trpc.admin.hypervisors.pathKey());
  };

  return (
    <>
      <DataTable<AdminServerRow>
        label={hypervisorId ? 'Instances on this host' : 'All instances'}
        rows={query.data?.items}
        rowKey={(r) => r.id}
        rowProps={(r) => ({ ...serverRowProps('admin-server-row')(r), 'data-project': r.projectName ?? r.projectId })}
        align="top"
        loading={query.isLoading}
        error={query.error}
        filter={{ ...list.filter, placeholder: 'Filter by name' }}
        toolbar={
          <>
            <FilterSelect
              label="Filter by project"
              any="Any project"
              className="max-w-52"
              options={projects.data?.map((p) => ({ value: p.id, label: p.name })) ?? []}
              value={list.values.projectId}
              onChange={(v) => list.set('projectId', v)}
            />
            {!hypervisorId && (
              <FilterSelect
                label="Filter by host"
                any="Any host"
                options={hosts.data?.hypervisors.map((h) => h.host) ?? []}
                value={list.values.host}
                onChange={(v) => list.set('host', v)}
              />
            )}
            <FilterSelect
              label="Filter by status"
              any="Any status"
              className="max-w-40"
              options={SERVER_STATUSES}
              value={list.values.status}
              onChange={(v) => list.set('status', v)}
            />
            <Refreshing query={query} />
          </>
        }
        empty={list.filtered ? 'No instance matches these filters.' : 'No instances.'}
        paging={list.pager(query.data?.next)}
        columns={[
          {
            header: 'Project',
            className: 'whitespace-nowrap',
            cell: (r) => (
              <span title={r.projectId}>
                {r.projectName ?? <code className="text-xs">{r.projectId.slice(0, 8)}</code>}
              </span>
            ),
          },
          col.name,
          {
            header: 'Host',
            className: 'whitespace-nowrap text-slate-600 dark:text-slate-300',
            cell: (r) =>
              r.host ? (
                hypervisorId ? (
                  r.host
                ) : (
                  <Link href={`/admin/hypervisors/${encodeURIComponent(r.host)}`} className="hover:text-sky-600">
                    {r.host}
                  </Link>
                )
              ) : (
                <span className="text-slate-400">—</span>
              ),
          },
          col.status,
          col.task,
          col.addresses,
          col.flavor,
          col.age,
        ]}
        // Delete has its own confirmation in useServerActions; the rest are confirmed here.
        actions={serverActions<AdminServerRow>(ADMIN_ACTIONS, (def, row) =>
          def.id === 'delete' ? void act(def, row) : setConfirm({ def, row }),
        )}
        actionsLabel={serverActionsLabel}
      />
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
    </>
  );
}
