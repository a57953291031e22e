'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { DataTable } from '@/components/data-table';
import { Icon } from '@/components/icons';
import { ConfirmDialog } from '@/components/modal';
import {
  Crumbs,
  label,
  NetStatus,
  ownerLabel,
  type PortRow,
  type SubnetRow,
  useNetPermissions,
} from '@/components/network/common';
import { NetworkDialog } from '@/components/network/network-dialog';
import { ipv6ModeText } from '@/components/network/ipv6-modes';
import { SubnetDialog } from '@/components/network/subnet-form';
import { useToast } from '@/components/toast';
import { Badge, Button, Card, Spinner } from '@/components/ui';
import { useInvalidate } from '@/lib/resource';
import { useTRPC } from '@/lib/trpc';

/** Where a port's device lives in the dashboard, if anywhere. */
function deviceHref(p: PortRow): string | null {
  if (!p.deviceId) return null;
  if (p.deviceOwner.startsWith('compute:')) return `/project/instances/${p.deviceId}`;
  if (p.deviceOwner === 'network:router_interface' || p.deviceOwner === 'network:router_gateway')
    return `/project/routers/${p.deviceId}`;
  return null;
}

/** One network: its settings, subnets (create, edit, delete) and ports, live. */
export function NetworkDetail({ id }: { id: string }) {
  const trpc = useTRPC();
  const router = useRouter();
  const toast = useToast();
  const invalidate = useInvalidate();
  const perms = useNetPermissions();
  const query = useQuery(trpc.network.networks.get.queryOptions({ id }));
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [subnetDialog, setSubnetDialog] = useState<{ row: SubnetRow | null } | null>(null);
  const [deletingSubnet, setDeletingSubnet] = useState<SubnetRow | null>(null);
  const removeNetwork = useMutation(trpc.network.networks.delete.mutationOptions());
  const removeSubnet = useMutation(trpc.network.subnets.delete.mutationOptions());

  if (query.isLoading) return <Spinner className="size-6 text-sky-600" />;
  const d = query.data;
  if (query.error || !d)
    return (
      <div className="space-y-3">
        <p role="alert" className="text-rose-600">
          {query.error?.message ?? 'Network not found.'}
        </p>
        <Link href="/project/networks" className="text-sm text-sky-600">
          ← Networks
        </Link>
      </div>
    );
  const n = d.network;
  const mine = perms.write && (n.own || perms.admin);
  const subnetName = (sid: string) => {
    const s = d.subnets.find((x) => x.id === sid);
    return s ? s.name || s.cidr : sid.slice(0, 8);
  };
  const confirmDeleteNetwork = async () => {
    try {
      await removeNetwork.mutateAsync({ id: n.id });
      toast.success(`Network ${label(n)} deleted`);
      setDeleting(false);
      await invalidate(trpc.network.pathKey());
      router.push('/project/networks');
    } catch {
      // the toast shows the server's message
    }
  };
  const confirmDeleteSubnet = async () => {
    if (!deletingSubnet) return;
    try {
      await removeSubnet.mutateAsync({ id: deletingSubnet.id });
      toast.success(`Subnet ${deletingSubnet.name || deletingSubnet.cidr} deleted`);
      setDeletingSubnet(null);
      await invalidate(trpc.network.pathKey());
    } catch {
      // the toast shows the server's message
    }
  };
  return (
    <>
      <Crumbs parent="Networks" href="/project/networks" current={label(n)} />
      <div className="mb-6 flex flex-col gap-4 sm:flex-row sm:items-start sm:justify-between">
        <div>
          <h1 className="flex flex-wrap items-center gap-3 text-2xl font-semibold tracking-tight">
            {label(n)} <NetStatus status={n.status} />
            {n.external && <Badge tone="sky">external</Badge>}
            {n.shared && <Badge tone="amber">shared</Badge>}
          </h1>
          <p className="mt-1 font-mono text-xs text-slate-500">{n.id}</p>
          {n.description && <p className="mt-2 text-sm text-slate-600 dark:text-slate-300">{n.description}</p>}
        </div>
        {mine && (
          <div className="flex shrink-0 gap-2">
            <Button variant="primary" onClick={() => setSubnetDialog({ row: null })}>
              <Icon name="plus" className="size-4" /> Create subnet
            </Button>
            <Button onClick={() => setEditing(true)}>Edit</Button>
            <Button variant="danger" onClick={() => setDeleting(true)}>
              Delete
            </Button>
          </div>
        )}
      </div>
      <div className="grid gap-6">
        <Card title="Overview">
          <dl className="grid gap-x-8 gap-y-3 text-sm sm:grid-cols-2 lg:grid-cols-4">
            <div>
              <dt className="text-slate-500">Admin state</dt>
              <dd>{n.adminStateUp ? 'Up' : 'Down'}</dd>
            </div>
            <div>
              <dt className="text-slate-500">MTU</dt>
              <dd className="tabular-nums">{n.mtu}</dd>
            </div>
            <div>
              <dt className="text-slate-500">Port security</dt>
              <dd>{n.portSecurityEnabled ? 'On' : 'Off'}</dd>
            </div>
            <div>
              <dt className="text-slate-500">Owner</dt>
              <dd>{n.own ? 'This project' : <span className="font-mono text-xs">{n.projectId}</span>}</dd>
            </div>
          </dl>
        </Card>
        <section aria-labelledby="subnets-heading">
          <h2 id="subnets-heading" className="mb-2 text-sm font-semibold">
            Subnets
          </h2>
          <DataTable
            label="Subnets"
            rows={d.subnets}
            rowKey={(s) => s.id}
            loading={false}
            empty="No subnets: instances on this network would get no address."
            columns={[
              {
                header: 'Name',
                cell: (s) => (
                  <span data-testid="subnet-row" data-cidr={s.cidr} className="font-medium">
                    {s.name || <span className="text-slate-400">(no name)</span>}
                  </span>
                ),
              },
              { header: 'CIDR', cell: (s) => <span className="font-mono text-xs">{s.cidr}</span> },
              {
                header: 'IP',
                cell: (s) => {
                  const mode = ipv6ModeText(s);
                  return (
                    <span>
                      IPv{s.ipVersion}
                      {mode && (
                        <span data-testid="subnet-ipv6-mode" className="block text-xs text-slate-500">
                          {mode}
                        </span>
                      )}
                    </span>
                  );
                },
                className: 'hidden sm:table-cell',
              },
              {
                header: 'Gateway',
                cell: (s) => <span className="font-mono text-xs">{s.gatewayIp ?? 'none'}</span>,
              },
              {
                header: 'DHCP',
                cell: (s) => (s.enableDhcp ? 'On' : 'Off'),
                className: 'hidden md:table-cell',
              },
              {
                header: 'Pools',
                cell: (s) => (
                  <ul className="font-mono text-xs">
                    {s.allocationPools.map((p) => (
                      <li key={p.start}>
                        {p.start} – {p.end}
                      </li>
                    ))}
                  </ul>
                ),
                className: 'hidden lg:table-cell',
              },
              {
                header: 'DNS',
                cell: (s) => <span className="font-mono text-xs">{s.dnsNameservers.join(', ') || '—'}</span>,
                className: 'hidden lg:table-cell',
              },
            ]}
            actions={
              mine
                ? [
                    { label: 'Edit', onSelect: (row) => setSubnetDialog({ row }) },
                    { label: 'Delete', onSelect: setDeletingSubnet, danger: true },
                  ]
                : []
            }
          />
        </section>
        <section aria-labelledby="ports-heading">
          <h2 id="ports-heading" className="mb-2 text-sm font-semibold">
            Ports
          </h2>
          <DataTable
            label="Ports"
            rows={d.ports}
            rowKey={(p) => p.id}
            loading={false}
            empty="No ports yet."
            columns={[
              {
                header: 'Port',
                cell: (p) => (
                  <span className="font-mono text-xs" title={p.id}>
                    {p.name || p.id.slice(0, 8)}
                  </span>
                ),
              },
              {
                header: 'Addresses',
                cell: (p) => (
                  <ul className="font-mono text-xs">
                    {p.fixedIps.map((f) => (
                      <li key={f.ip} title={subnetName(f.subnetId)}>
                        {f.ip}
                      </li>
                    ))}
                  </ul>
                ),
              },
              {
                header: 'Attached to',
                cell: (p) => {
                  const href = deviceHref(p);
                  return href ? (
                    <Link href={href} className="hover:text-sky-600">
                      {ownerLabel(p.deviceOwner)}
                    </Link>
                  ) : (
                    ownerLabel(p.deviceOwner)
                  );
                },
              },
              {
                header: 'MAC',
                cell: (p) => <span className="font-mono text-xs">{p.macAddress}</span>,
                className: 'hidden md:table-cell',
              },
              { header: 'Status', cell: (p) => <NetStatus status={p.status} /> },
            ]}
          />
        </section>
      </div>
      <NetworkDialog open={editing} network={n} canShare={perms.admin} onClose={() => setEditing(false)} />
      <SubnetDialog
        open={subnetDialog !== null}
        networkId={n.id}
        subnet={subnetDialog?.row ?? null}
        onClose={() => setSubnetDialog(null)}
      />
      <ConfirmDialog
        open={deleting}
        title="Delete network"
        message={
          <>
            Delete network <strong>{label(n)}</strong> and its subnets? This cannot be undone.
          </>
        }
        busy={removeNetwork.isPending}
        onClose={() => setDeleting(false)}
        onConfirm={() => void confirmDeleteNetwork()}
      />
      <ConfirmDialog
        open={deletingSubnet !== null}
        title="Delete subnet"
        message={
          deletingSubnet && (
            <>
              Delete subnet <strong>{deletingSubnet.name || deletingSubnet.cidr}</strong>? Subnets with instance or
              router addresses cannot be deleted. This cannot be undone.
            </>
          )
        }
        busy={removeSubnet.isPending}
        onClose={() => setDeletingSubnet(null)}
        onConfirm={() => void confirmDeleteSubnet()}
      />
    </>
  );
}
