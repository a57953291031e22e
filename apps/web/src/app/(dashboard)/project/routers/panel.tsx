'use client';
import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import { DataTable } from '@/components/data-table';
import { Icon } from '@/components/icons';
import { ConfirmDialog } from '@/components/modal';
import { label, NetStatus, type RouterRow, useNetPermissions } from '@/components/network/common';
import { CreateRouterDialog, GatewayDialog } from '@/components/network/router-dialogs';
import { useToast } from '@/components/toast';
import { Button, Input, PageHeader } from '@/components/ui';
import { useMarkerPaging } from '@/lib/paging';
import { PAGE_SIZE, useInvalidate } from '@/lib/resource';
import { useTRPC } from '@/lib/trpc';

/** Routers of the project: gateway, interfaces, status; changes arrive live (`router.*` events). */
export function RoutersPanel() {
  const trpc = useTRPC();
  const router = useRouter();
  const toast = useToast();
  const invalidate = useInvalidate();
  const perms = useNetPermissions();
  const paging = useMarkerPaging();
  const [text, setText] = useState('');
  const [name, setName] = useState('');
  const [creating, setCreating] = useState(false);
  const [gatewayFor, setGatewayFor] = useState<RouterRow | null>(null);
  const [clearing, setClearing] = useState<RouterRow | null>(null);
  const [deleting, setDeleting] = useState<RouterRow | null>(null);
  const update = useMutation(trpc.network.routers.update.mutationOptions());
  const remove = useMutation(trpc.network.routers.delete.mutationOptions());
  const externals = useQuery(trpc.network.networks.external.queryOptions());
  useEffect(() => {
    const t = setTimeout(() => {
      if (text.trim() !== name) {
        setName(text.trim());
        paging.reset();
      }
    }, 300);
    return () => clearTimeout(t);
  }, [text, name, paging]);
  const query = useQuery({
    ...trpc.network.routers.list.queryOptions({ name: name || undefined, marker: paging.marker, limit: PAGE_SIZE }),
    placeholderData: keepPreviousData,
  });
  const extName = (id: string) => {
    const n = externals.data?.find((x) => x.id === id);
    return n ? label(n) : id.slice(0, 8);
  };
  const act = async (what: () => Promise<unknown>, done: string, close: () => void) => {
    try {
      await what();
      toast.success(done);
      close();
      await invalidate(trpc.network.pathKey());
    } catch {
      // the toast shows the server's message
    }
  };
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
      <div className="mb-3 relative w-full max-w-xs">
        <span className="pointer-events-none absolute inset-y-0 left-2.5 flex items-center text-slate-400">
          <Icon name="search" className="size-4" />
        </span>
        <Input
          type="search"
          aria-label="Filter by name"
          placeholder="Filter by name (exact)"
          value={text}
          onChange={(e) => setText(e.target.value)}
          className="pl-8"
        />
      </div>
      <DataTable
        label="Routers"
        rows={query.data?.items}
        rowKey={(r) => r.id}
        loading={query.isLoading}
        error={query.error}
        empty={name ? `No router is named “${name}”.` : 'No routers yet.'}
        paging={{
          page: paging.page,
          hasPrevious: paging.hasPrevious,
          hasNext: Boolean(query.data?.next),
          onPrevious: paging.previous,
          onNext: () => query.data?.next && paging.next(query.data.next),
        }}
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
      <ConfirmDialog
        open={clearing !== null}
        title="Clear gateway"
        confirmLabel="Clear gateway"
        message={
          clearing && (
            <>
              Remove the external gateway of router <strong>{label(clearing)}</strong>? Instances behind it lose SNAT;
              routers with floating IPs keep their gateway.
            </>
          )
        }
        busy={update.isPending}
        onClose={() => setClearing(null)}
        onConfirm={() =>
          clearing &&
          void act(
            () => update.mutateAsync({ id: clearing.id, patch: { external_gateway_info: null } }),
            `Gateway of router ${label(clearing)} cleared`,
            () => setClearing(null),
          )
        }
      />
      <ConfirmDialog
        open={deleting !== null}
        title="Delete router"
        message={
          deleting && (
            <>
              Delete router <strong>{label(deleting)}</strong>? Remove its interfaces first. This cannot be undone.
            </>
          )
        }
        busy={remove.isPending}
        onClose={() => setDeleting(null)}
        onConfirm={() =>
          deleting &&
          void act(
            () => remove.mutateAsync({ id: deleting.id }),
            `Router ${label(deleting)} deleted`,
            () => setDeleting(null),
          )
        }
      />
    </>
  );
}
