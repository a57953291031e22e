'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { DataTable, markerPaging } from '@/components/data-table';
import { Icon } from '@/components/icons';
import { ConfirmAction } from '@/components/modal';
import { label, NetStatus, type RouterRow, useNetPermissions } from '@/components/network/common';
import { CreateRouterDialog, GatewayDialog } from '@/components/network/router-dialogs';
import { Button, PageHeader } from '@/components/ui';
import { useInvalidate, useListState } from '@/lib/resource';
import { useTRPC } from '@/lib/trpc';

/** Routers of the project: gateway, interfaces, status; changes arrive live (`router.*` events). */
export function RoutersPanel() {
  const trpc = useTRPC();
  const router = useRouter();
  const invalidate = useInvalidate();
  const perms = useNetPermissions();
  const list = useListState();
  const [creating, setCreating] = useState(false);
  const [gatewayFor, setGatewayFor] = useState<RouterRow | null>(null);
  const [clearing, setClearing] = useState<RouterRow | null>(null);
  const [deleting, setDeleting] = useState<RouterRow | null>(null);
  const update = useMutation(trpc.network.routers.update.mutationOptions());
  const remove = useMutation(trpc.network.routers.delete.mutationOptions());
  const externals = useQuery(trpc.network.networks.external.queryOptions());
  const query = useQuery({ ...trpc.network.routers.list.queryOptions(list.input), ...list.keep });
  const extName = (id: string) => {
    const n = externals.data?.find((x) => x.id === id);
    return n ? label(n) : id.slice(0, 8);
  };
  const refresh = () => invalidate(trpc.network.pathKey());
  return (
    <>
      <PageHeader
        title="Routers"
        description="Connect your subnets to each other and, through a gateway, to the external network."
        actions={
          perms.write && (
            <Button variant="primary" onClick={() => setCreating(true)}>
              <Icon name="plus" className="size-4" /> Create router
            </Button>
          )
        }
      />
      <DataTable
        label="Routers"
        rows={query.data?.items}
        rowKey={(r) => r.id}
        loading={query.isLoading}
        error={query.error}
        filter={{ ...list.filter, label: 'Filter by name', placeholder: 'Filter by name (exact)' }}
        empty={list.input.name ? `No router is named “${list.input.name}”.` : 'No routers yet.'}
        paging={markerPaging(list.paging, query.data?.next)}
        columns={[
          {
            header: 'Name',
            cell: (r) => (
              <span data-testid="router-row" data-name={r.name}>
                <Link href={`/project/routers/${r.id}`} className="font-medium hover:text-sky-600">
                  {label(r)}
                </Link>
              </span>
            ),
          },
          {
            header: 'External gateway',
            cell: (r) =>
              r.gateway ? (
                <span>
                  {extName(r.gateway.networkId)}{' '}
                  <span className="font-mono text-xs text-slate-500">
                    {r.gateway.externalFixedIps.map((f) => f.ip).join(', ')}
                  </span>
                  {!r.gateway.enableSnat && <span className="ml-1 text-xs text-amber-600">no SNAT</span>}
                </span>
              ) : (
                <span className="text-slate-400">none</span>
              ),
          },
          { header: 'Interfaces', cell: (r) => r.interfaces.length, className: 'tabular-nums' },
          { header: 'Status', cell: (r) => <NetStatus status={r.status} /> },
          {
            header: 'Admin state',
            cell: (r) => (r.adminStateUp ? 'Up' : 'Down'),
            className: 'hidden md:table-cell text-slate-500',
          },
        ]}
        actions={[
          { label: 'Open', onSelect: (r) => router.push(`/project/routers/${r.id}`) },
          { label: 'Set gateway', onSelect: setGatewayFor, hidden: (r) => !perms.write || r.gateway !== null },
          { label: 'Clear gateway', onSelect: setClearing, hidden: (r) => !perms.write || r.gateway === null },
          { label: 'Delete', onSelect: setDeleting, danger: true, hidden: () => !perms.write },
        ]}
      />
      <CreateRouterDialog
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(id) => router.push(`/project/routers/${id}`)}
      />
      <GatewayDialog router={gatewayFor} onClose={() => setGatewayFor(null)} />
      <ConfirmAction
        target={clearing}
        title="Clear gateway"
        confirmLabel="Clear gateway"
        message={(r) => (
          <>
            Remove the external gateway of router <strong>{label(r)}</strong>? Instances behind it lose SNAT; routers
            with floating IPs keep their gateway.
          </>
        )}
        action={(r) => update.mutateAsync({ id: r.id, patch: { external_gateway_info: null } })}
        done={(r) => `Gateway of router ${label(r)} cleared`}
        refresh={refresh}
        onClose={() => setClearing(null)}
      />
      <ConfirmAction
        target={deleting}
        title="Delete router"
        message={(r) => (
          <>
            Delete router <strong>{label(r)}</strong>? Remove its interfaces first. This cannot be undone.
          </>
        )}
        action={(r) => remove.mutateAsync({ id: r.id })}
        done={(r) => `Router ${label(r)} deleted`}
        refresh={refresh}
        onClose={() => setDeleting(null)}
      />
    </>
  );
}
