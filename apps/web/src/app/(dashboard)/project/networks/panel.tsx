'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { DataTable, FilterSelect, Refreshing, useListFilters } from '@/components/data-table';
import { Icon } from '@/components/icons';
import { ConfirmAction } from '@/components/modal';
import { label, NetStatus, type NetworkRow, useNetPermissions } from '@/components/network/common';
import { ipv6ModeText } from '@/components/network/ipv6-modes';
import { NetworkDialog } from '@/components/network/network-dialog';
import { Badge, Button, PageHeader } from '@/components/ui';
import { useInvalidate } from '@/lib/resource';
import { useTRPC } from '@/lib/trpc';

const SCOPES = [
  { value: 'all', label: 'All visible' },
  { value: 'project', label: 'This project' },
  { value: 'shared', label: 'Shared' },
  { value: 'external', label: 'External' },
] as const;
type Scope = (typeof SCOPES)[number]['value'];
const STATUSES = ['ACTIVE', 'BUILD', 'DOWN', 'ERROR'];

/**
 * Networks: the project's own plus shared and external ones, filtered and paged on the
 * server; `network.*`/`subnet.*` events refresh the page live (lib/live.ts).
 */
export function NetworksPanel() {
  const trpc = useTRPC();
  const router = useRouter();
  const invalidate = useInvalidate();
  const perms = useNetPermissions();
  const list = useListFilters({ scope: 'all' as Scope, status: '' });
  const [editing, setEditing] = useState<{ row: NetworkRow | null } | null>(null);
  const [deleting, setDeleting] = useState<NetworkRow | null>(null);
  const remove = useMutation(trpc.network.networks.delete.mutationOptions());
  const query = useQuery({
    ...trpc.network.networks.list.queryOptions({
      ...list.input,
      scope: list.values.scope,
      status: list.values.status || undefined,
    }),
    ...list.keep,
  });
  return (
    <>
      <PageHeader
        title="Networks"
        description="Private networks and their subnets. Instances get their addresses here; routers connect them."
        actions={
          perms.write && (
            <Button variant="primary" onClick={() => setEditing({ row: null })}>
              <Icon name="plus" className="size-4" /> Create network
            </Button>
          )
        }
      />
      <DataTable
        label="Networks"
        rows={query.data?.items}
        rowKey={(r) => r.id}
        loading={query.isLoading}
        error={query.error}
        filter={{ ...list.filter, placeholder: 'Filter by name' }}
        toolbar={
          <>
            <FilterSelect
              label="Which networks"
              options={SCOPES}
              value={list.values.scope}
              onChange={(v) => list.set('scope', SCOPES.find((s) => s.value === v)?.value ?? 'all')}
            />
            <FilterSelect
              label="Status"
              any="Any status"
              options={STATUSES}
              value={list.values.status}
              onChange={(v) => list.set('status', v)}
            />
            <Refreshing query={query} />
          </>
        }
        empty={
          list.filtered ? 'No network matches these filters.' : 'No networks yet. Create one to launch instances on it.'
        }
        paging={list.pager(query.data?.next)}
        columns={[
          {
            header: 'Name',
            cell: (n) => (
              <div data-testid="network-row" data-name={n.name}>
                <Link href={`/project/networks/${n.id}`} className="font-medium hover:text-sky-600">
                  {label(n)}
                </Link>
                {n.description && <p className="text-xs text-slate-500">{n.description}</p>}
              </div>
            ),
          },
          {
            header: 'Subnets',
            cell: (n) =>
              n.subnets.length ? (
                <ul className="space-y-0.5">
                  {n.subnets.map((s) => (
                    <li key={s.id} className="font-mono text-xs">
                      {s.name && <span className="font-sans text-slate-500">{s.name} </span>}
                      {s.cidr}
                      {ipv6ModeText(s) && <span className="font-sans text-slate-500"> ({ipv6ModeText(s)})</span>}
                    </li>
                  ))}
                </ul>
              ) : (
                <span className="text-slate-400">none</span>
              ),
          },
          {
            header: 'Kind',
            cell: (n) => (
              <div className="flex flex-wrap gap-1">
                {n.external && <Badge tone="sky">external</Badge>}
                {n.shared && <Badge tone="amber">shared</Badge>}
                {!n.external && !n.shared && <Badge>{n.own ? 'project' : 'other project'}</Badge>}
              </div>
            ),
            className: 'hidden sm:table-cell',
          },
          { header: 'Status', cell: (n) => <NetStatus status={n.status} /> },
          {
            header: 'Admin state',
            cell: (n) => (n.adminStateUp ? 'Up' : 'Down'),
            className: 'hidden md:table-cell text-slate-500',
          },
        ]}
        actions={[
          { label: 'Open', onSelect: (n) => router.push(`/project/networks/${n.id}`) },
          {
            label: 'Edit',
            onSelect: (row) => setEditing({ row }),
            hidden: (n) => !perms.write || (!n.own && !perms.admin),
          },
          {
            label: 'Delete',
            onSelect: setDeleting,
            danger: true,
            hidden: (n) => !perms.write || (!n.own && !perms.admin),
          },
        ]}
      />
      <NetworkDialog
        open={editing !== null}
        network={editing?.row ?? null}
        canShare={perms.admin}
        onClose={() => setEditing(null)}
        onCreated={(id) => router.push(`/project/networks/${id}`)}
      />
      <ConfirmAction
        target={deleting}
        title="Delete network"
        message={(d) => (
          <>
            Delete network <strong>{label(d)}</strong> and its subnets? Networks with instance or router ports cannot be
            deleted. This cannot be undone.
          </>
        )}
        action={(d) => remove.mutateAsync({ id: d.id })}
        done={(d) => `Network ${label(d)} deleted`}
        refresh={() => invalidate(trpc.network.pathKey())}
        onClose={() => setDeleting(null)}
      />
    </>
  );
}
