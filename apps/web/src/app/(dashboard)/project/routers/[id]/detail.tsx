'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { DataTable } from '@/components/data-table';
import { Icon } from '@/components/icons';
import { ConfirmDialog } from '@/components/modal';
import { Crumbs, label, NetStatus, useNetPermissions } from '@/components/network/common';
import { AddInterfaceDialog, GatewayDialog } from '@/components/network/router-dialogs';
import { useToast } from '@/components/toast';
import { Button, Card, Field, FormError, Input, Spinner } from '@/components/ui';
import { useInvalidate } from '@/lib/resource';
import { QUIET, useTRPC } from '@/lib/trpc';

interface Route {
  destination: string;
  nexthop: string;
}

/** One router: gateway (set/clear), interfaces (add/remove by subnet), static routes, delete. */
export function RouterDetail({ id }: { id: string }) {
  const trpc = useTRPC();
  const nav = useRouter();
  const toast = useToast();
  const invalidate = useInvalidate();
  const perms = useNetPermissions();
  const query = useQuery(trpc.network.routers.get.queryOptions({ id }));
  const names = useQuery(trpc.network.subnets.attachable.queryOptions());
  const externals = useQuery(trpc.network.networks.external.queryOptions());
  const update = useMutation(trpc.network.routers.update.mutationOptions());
  const routeUpdate = useMutation(trpc.network.routers.update.mutationOptions(QUIET));
  const removeIface = useMutation(trpc.network.routers.removeInterface.mutationOptions());
  const remove = useMutation(trpc.network.routers.delete.mutationOptions());
  const [gatewayOpen, setGatewayOpen] = useState(false);
  const [clearing, setClearing] = useState(false);
  const [adding, setAdding] = useState(false);
  const [detaching, setDetaching] = useState<{ portId: string; text: string } | null>(null);
  const [deleting, setDeleting] = useState(false);
  const [dropRoute, setDropRoute] = useState<Route | null>(null);
  const [dest, setDest] = useState('');
  const [hop, setHop] = useState('');
  const [routeError, setRouteError] = useState<string | null>(null);

  if (query.isLoading) return <Spinner className="size-6 text-sky-600" />;
  const d = query.data;
  if (query.error || !d)
    return (
      <div className="space-y-3">
        <p role="alert" className="text-rose-600">
          {query.error?.message ?? 'Router not found.'}
        </p>
        <Link href="/project/routers" className="text-sm text-sky-600">
          ← Routers
        </Link>
      </div>
    );
  const r = d.router;
  const subnet = (sid: string) => names.data?.subnets.find((s) => s.id === sid);
  const network = (nid: string) =>
    names.data?.networks.find((n) => n.id === nid) ?? externals.data?.find((n) => n.id === nid);
  const ifaces = r.interfaces.map((i) => {
    const port = d.ports.find((p) => p.id === i.portId);
    const s = subnet(i.subnetId);
    const n = port ? network(port.networkId) : undefined;
    return {
      portId: i.portId,
      subnetId: i.subnetId,
      networkId: port?.networkId ?? s?.networkId ?? '',
      networkName: n ? label(n) : '',
      cidr: s?.cidr ?? i.subnetId.slice(0, 8),
      ip: port?.fixedIps.find((f) => f.subnetId === i.subnetId)?.ip ?? '',
      status: port?.status ?? 'ACTIVE',
    };
  });
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
  const addRoute = async () => {
    if (!dest.trim() || !hop.trim()) return setRouteError('Enter a destination CIDR and a next hop.');
    setRouteError(null);
    try {
      await routeUpdate.mutateAsync({
        id: r.id,
        patch: { routes: [...r.routes, { destination: dest.trim(), nexthop: hop.trim() }] },
      });
      toast.success(`Route to ${dest.trim()} added`);
      setDest('');
      setHop('');
      await invalidate(trpc.network.pathKey());
    } catch (e) {
      setRouteError(e instanceof Error ? e.message : String(e));
    }
  };
  const gw = r.gateway;
  return (
    <>
      <Crumbs parent="Routers" href="/project/routers" current={label(r)} />
      <div className="mb-6 flex flex-col gap-4 sm:flex-row sm:items-start sm:justify-between">
        <div>
          <h1 className="flex items-center gap-3 text-2xl font-semibold tracking-tight">
            {label(r)} <NetStatus status={r.status} />
          </h1>
          <p className="mt-1 font-mono text-xs text-slate-500">{r.id}</p>
        </div>
        {perms.write && (
          <div className="flex shrink-0 gap-2">
            <Button variant="primary" onClick={() => setAdding(true)}>
              <Icon name="plus" className="size-4" /> Add interface
            </Button>
            {gw ? (
              <Button onClick={() => setClearing(true)}>Clear gateway</Button>
            ) : (
              <Button onClick={() => setGatewayOpen(true)}>Set gateway</Button>
            )}
            <Button variant="danger" onClick={() => setDeleting(true)}>
              Delete
            </Button>
          </div>
        )}
      </div>
      <div className="grid gap-6">
        <Card title="External gateway">
          {gw ? (
            <dl className="grid gap-x-8 gap-y-3 text-sm sm:grid-cols-3" data-testid="router-gateway">
              <div>
                <dt className="text-slate-500">Network</dt>
                <dd>
                  <Link href={`/project/networks/${gw.networkId}`} className="hover:text-sky-600">
                    {(() => {
                      const n = network(gw.networkId);
                      return n ? label(n) : gw.networkId.slice(0, 8);
                    })()}
                  </Link>
                </dd>
              </div>
              <div>
                <dt className="text-slate-500">Address</dt>
                <dd className="font-mono text-xs">{gw.externalFixedIps.map((f) => f.ip).join(', ')}</dd>
              </div>
              <div>
                <dt className="text-slate-500">SNAT</dt>
                <dd>{gw.enableSnat ? 'On' : 'Off'}</dd>
              </div>
            </dl>
          ) : (
            <p className="text-sm text-slate-500">
              No gateway: instances behind this router reach only the subnets attached to it.
            </p>
          )}
        </Card>
        <section aria-labelledby="ifaces-heading">
          <h2 id="ifaces-heading" className="mb-2 text-sm font-semibold">
            Interfaces
          </h2>
          <DataTable
            label="Interfaces"
            rows={ifaces}
            rowKey={(i) => i.portId}
            loading={false}
            empty="No interfaces. Add one to route a subnet."
            columns={[
              {
                header: 'Network',
                cell: (i) => (
                  <Link
                    href={`/project/networks/${i.networkId}`}
                    className="font-medium hover:text-sky-600"
                    data-testid="router-interface"
                    data-cidr={i.cidr}
                  >
                    {i.networkName || i.networkId.slice(0, 8)}
                  </Link>
                ),
              },
              { header: 'Subnet', cell: (i) => <span className="font-mono text-xs">{i.cidr}</span> },
              { header: 'Address', cell: (i) => <span className="font-mono text-xs">{i.ip}</span> },
              { header: 'Status', cell: (i) => <NetStatus status={i.status} /> },
            ]}
            actions={
              perms.write
                ? [
                    {
                      label: 'Remove',
                      danger: true,
                      onSelect: (i) => setDetaching({ portId: i.portId, text: `${i.networkName} ${i.cidr}` }),
                    },
                  ]
                : []
            }
          />
        </section>
        <section aria-labelledby="routes-heading">
          <h2 id="routes-heading" className="mb-2 text-sm font-semibold">
            Static routes
          </h2>
          <DataTable
            label="Static routes"
            rows={r.routes}
            rowKey={(x) => `${x.destination}-${x.nexthop}`}
            loading={false}
            empty="No static routes."
            columns={[
              { header: 'Destination', cell: (x) => <span className="font-mono text-xs">{x.destination}</span> },
              { header: 'Next hop', cell: (x) => <span className="font-mono text-xs">{x.nexthop}</span> },
            ]}
            actions={perms.write ? [{ label: 'Remove', danger: true, onSelect: setDropRoute }] : []}
          />
          {perms.write && (
            <form
              noValidate
              className="mt-3 space-y-2"
              onSubmit={(e) => {
                e.preventDefault();
                void addRoute();
              }}
            >
              <FormError message={routeError} />
              <div className="flex flex-wrap items-end gap-2">
                <Field label="Destination CIDR" htmlFor="route-destination">
                  <Input
                    id="route-destination"
                    value={dest}
                    placeholder="192.168.50.0/24"
                    onChange={(e) => setDest(e.target.value)}
                  />
                </Field>
                <Field label="Next hop" htmlFor="route-nexthop">
                  <Input
                    id="route-nexthop"
                    value={hop}
                    placeholder="10.0.0.5"
                    onChange={(e) => setHop(e.target.value)}
                  />
                </Field>
                <Button type="submit" busy={routeUpdate.isPending}>
                  Add route
                </Button>
              </div>
            </form>
          )}
        </section>
      </div>
      <GatewayDialog router={gatewayOpen ? r : null} onClose={() => setGatewayOpen(false)} />
      <AddInterfaceDialog
        open={adding}
        routerId={r.id}
        attached={r.interfaces.map((i) => i.subnetId)}
        onClose={() => setAdding(false)}
      />
      <ConfirmDialog
        open={clearing}
        title="Clear gateway"
        confirmLabel="Clear gateway"
        message={
          <>
            Remove the external gateway of router <strong>{label(r)}</strong>?
          </>
        }
        busy={update.isPending}
        onClose={() => setClearing(false)}
        onConfirm={() =>
          void act(
            () => update.mutateAsync({ id: r.id, patch: { external_gateway_info: null } }),
            `Gateway of router ${label(r)} cleared`,
            () => setClearing(false),
          )
        }
      />
      <ConfirmDialog
        open={detaching !== null}
        title="Remove interface"
        confirmLabel="Remove"
        message={
          detaching && (
            <>
              Detach router <strong>{label(r)}</strong> from <strong>{detaching.text}</strong>?
            </>
          )
        }
        busy={removeIface.isPending}
        onClose={() => setDetaching(null)}
        onConfirm={() =>
          detaching &&
          void act(
            () => removeIface.mutateAsync({ id: r.id, portId: detaching.portId }),
            'Interface removed',
            () => setDetaching(null),
          )
        }
      />
      <ConfirmDialog
        open={dropRoute !== null}
        title="Remove route"
        confirmLabel="Remove"
        message={
          dropRoute && (
            <>
              Remove the route to <strong>{dropRoute.destination}</strong> via {dropRoute.nexthop}?
            </>
          )
        }
        busy={update.isPending}
        onClose={() => setDropRoute(null)}
        onConfirm={() =>
          dropRoute &&
          void act(
            () =>
              update.mutateAsync({
                id: r.id,
                patch: {
                  routes: r.routes.filter(
                    (x) => !(x.destination === dropRoute.destination && x.nexthop === dropRoute.nexthop),
                  ),
                },
              }),
            `Route to ${dropRoute.destination} removed`,
            () => setDropRoute(null),
          )
        }
      />
      <ConfirmDialog
        open={deleting}
        title="Delete router"
        message={
          <>
            Delete router <strong>{label(r)}</strong>? Remove its interfaces first. This cannot be undone.
          </>
        }
        busy={remove.isPending}
        onClose={() => setDeleting(false)}
        onConfirm={() =>
          void act(
            () => remove.mutateAsync({ id: r.id }),
            `Router ${label(r)} deleted`,
            () => {
              setDeleting(false);
              nav.push('/project/routers');
            },
          )
        }
      />
    </>
  );
}
