'use client';
import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useEffect, useState } from 'react';
import { DataTable, markerPaging } from '@/components/data-table';
import { Icon } from '@/components/icons';
import { ConfirmAction, FormDialog } from '@/components/modal';
import { type FloatingIpRow, label, NetStatus, useNetPermissions } from '@/components/network/common';
import { useToast } from '@/components/toast';
import { Button, Field, Input, PageHeader, Select } from '@/components/ui';
import { useMarkerPaging } from '@/lib/paging';
import { PAGE_SIZE, useInvalidate } from '@/lib/resource';
import { QUIET, useTRPC } from '@/lib/trpc';

/** Instance names by id, for labelling ports (one page of the compute list is plenty here). */
function useServerNames() {
  const trpc = useTRPC();
  const q = useQuery(trpc.compute.servers.list.queryOptions({ limit: 200 }));
  return (id: string) => q.data?.items.find((s) => s.id === id)?.name;
}

/**
 * Floating IPs: allocate from an external network, associate with an instance's port,
 * disassociate, release. Status follows the dataplane live (`floatingip.*` events).
 */
export function FloatingIpsPanel() {
  const trpc = useTRPC();
  const invalidate = useInvalidate();
  const perms = useNetPermissions();
  const paging = useMarkerPaging();
  const serverName = useServerNames();
  const externals = useQuery(trpc.network.networks.external.queryOptions());
  const targets = useQuery(trpc.network.floatingIps.targets.queryOptions());
  const query = useQuery({
    ...trpc.network.floatingIps.list.queryOptions({ marker: paging.marker, limit: PAGE_SIZE }),
    placeholderData: keepPreviousData,
  });
  const [allocating, setAllocating] = useState(false);
  const [associating, setAssociating] = useState<FloatingIpRow | null>(null);
  const [disassociating, setDisassociating] = useState<FloatingIpRow | null>(null);
  const [releasing, setReleasing] = useState<FloatingIpRow | null>(null);
  const update = useMutation(trpc.network.floatingIps.update.mutationOptions());
  const remove = useMutation(trpc.network.floatingIps.delete.mutationOptions());
  const poolName = (id: string) => {
    const n = externals.data?.find((x) => x.id === id);
    return n ? label(n) : id.slice(0, 8);
  };
  const deviceOf = (portId: string | null) => targets.data?.find((p) => p.id === portId)?.deviceId ?? null;
  const refresh = () => invalidate(trpc.network.pathKey());
  return (
    <>
      <PageHeader
        title="Floating IPs"
        description="Addresses on the external network that reach an instance through its router."
        actions={
          perms.write && (
            <Button variant="primary" onClick={() => setAllocating(true)}>
              <Icon name="plus" className="size-4" /> Allocate IP
            </Button>
          )
        }
      />
      <DataTable
        label="Floating IPs"
        rows={query.data?.items}
        rowKey={(f) => f.id}
        loading={query.isLoading}
        error={query.error}
        empty="No floating IPs allocated."
        paging={markerPaging(paging, query.data?.next)}
        columns={[
          {
            header: 'Address',
            cell: (f) => (
              <span className="font-mono text-sm font-medium" data-testid="fip-row" data-ip={f.floatingIp}>
                {f.floatingIp}
              </span>
            ),
          },
          {
            header: 'Mapped to',
            cell: (f) => {
              if (!f.portId) return <span className="text-slate-400">not associated</span>;
              const server = deviceOf(f.portId);
              return (
                <span>
                  {server ? (
                    <Link href={`/project/instances/${server}`} className="hover:text-sky-600">
                      {serverName(server) ?? server.slice(0, 8)}
                    </Link>
                  ) : (
                    'port'
                  )}{' '}
                  <span className="font-mono text-xs text-slate-500">{f.fixedIp}</span>
                </span>
              );
            },
          },
          { header: 'Pool', cell: (f) => poolName(f.floatingNetworkId), className: 'hidden sm:table-cell' },
          { header: 'Status', cell: (f) => <NetStatus status={f.status} /> },
          {
            header: 'Description',
            cell: (f) => f.description || '—',
            className: 'hidden md:table-cell text-slate-500',
          },
        ]}
        actions={[
          { label: 'Associate', onSelect: setAssociating, hidden: (f) => !perms.write || f.portId !== null },
          { label: 'Disassociate', onSelect: setDisassociating, hidden: (f) => !perms.write || f.portId === null },
          { label: 'Release', onSelect: setReleasing, danger: true, hidden: () => !perms.write },
        ]}
      />
      <AllocateDialog open={allocating} onClose={() => setAllocating(false)} />
      <AssociateDialog fip={associating} serverName={serverName} onClose={() => setAssociating(null)} />
      <ConfirmAction
        target={disassociating}
        title="Disassociate floating IP"
        confirmLabel="Disassociate"
        message={(f) => (
          <>
            Disassociate <strong>{f.floatingIp}</strong> from {f.fixedIp}? The address stays allocated to the project.
          </>
        )}
        action={(f) => update.mutateAsync({ id: f.id, portId: null })}
        done={(f) => `${f.floatingIp} disassociated`}
        refresh={refresh}
        onClose={() => setDisassociating(null)}
      />
      <ConfirmAction
        target={releasing}
        title="Release floating IP"
        confirmLabel="Release"
        message={(f) => (
          <>
            Release <strong>{f.floatingIp}</strong> back to the pool? Another project may get it next.
          </>
        )}
        action={(f) => remove.mutateAsync({ id: f.id })}
        done={(f) => `${f.floatingIp} released`}
        refresh={refresh}
        onClose={() => setReleasing(null)}
      />
    </>
  );
}

function AllocateDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const trpc = useTRPC();
  const toast = useToast();
  const invalidate = useInvalidate();
  const externals = useQuery({ ...trpc.network.networks.external.queryOptions(), enabled: open });
  const create = useMutation(trpc.network.floatingIps.create.mutationOptions(QUIET));
  const [pool, setPool] = useState('');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<string | null>(null);
  const first = externals.data?.[0]?.id ?? '';
  useEffect(() => {
    if (!open) return;
    setPool(first);
    setDescription('');
    setError(null);
  }, [open, first]);
  const submit = async () => {
    if (!pool) return setError('Choose the external network to allocate from.');
    setError(null);
    try {
      const f = await create.mutateAsync({ floating_network_id: pool, description });
      toast.success(`${f.floatingIp} allocated`);
      await invalidate(trpc.network.pathKey());
      onClose();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <FormDialog
      open={open}
      title="Allocate floating IP"
      onClose={onClose}
      onSubmit={() => void submit()}
      submitLabel="Allocate IP"
      busy={create.isPending}
      error={error}
    >
      <Field label="Pool (external network)" htmlFor="fip-pool">
        <Select id="fip-pool" autoFocus value={pool} onChange={(e) => setPool(e.target.value)}>
          {externals.data?.map((n) => (
            <option key={n.id} value={n.id}>
              {label(n)}
            </option>
          ))}
        </Select>
      </Field>
      <Field label="Description" htmlFor="fip-description">
        <Input id="fip-description" value={description} onChange={(e) => setDescription(e.target.value)} />
      </Field>
    </FormDialog>
  );
}

function AssociateDialog({
  fip,
  serverName,
  onClose,
}: {
  fip: FloatingIpRow | null;
  serverName: (id: string) => string | undefined;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const toast = useToast();
  const invalidate = useInvalidate();
  const open = fip !== null;
  const targets = useQuery({ ...trpc.network.floatingIps.targets.queryOptions(), enabled: open });
  const update = useMutation(trpc.network.floatingIps.update.mutationOptions(QUIET));
  // One choice per instance address: "<port>|<ip>".
  const options = (targets.data ?? []).flatMap((p) =>
    p.fixedIps
      .filter((f) => !f.ip.includes(':'))
      .map((f) => ({ value: `${p.id}|${f.ip}`, text: `${serverName(p.deviceId) ?? p.deviceId.slice(0, 8)}: ${f.ip}` })),
  );
  const [choice, setChoice] = useState('');
  const [error, setError] = useState<string | null>(null);
  const first = options[0]?.value ?? '';
  useEffect(() => {
    if (!open) return;
    setChoice(first);
    setError(null);
  }, [open, first]);
  const submit = async () => {
    if (!fip) return;
    const [portId, fixedIp] = choice.split('|');
    if (!portId) return setError('Choose an instance address.');
    setError(null);
    try {
      await update.mutateAsync({ id: fip.id, portId, fixedIp });
      toast.success(`${fip.floatingIp} associated with ${fixedIp}`);
      await invalidate(trpc.network.pathKey(), trpc.compute.servers.pathKey());
      onClose();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <FormDialog
      open={open}
      title={`Associate ${fip?.floatingIp ?? ''}`}
      description="The instance's subnet must be attached to a router whose gateway is on this IP's network."
      onClose={onClose}
      onSubmit={() => void submit()}
      submitLabel="Associate"
      busy={update.isPending}
      submitDisabled={!options.length}
      error={error}
    >
      <Field
        label="Instance address"
        htmlFor="fip-target"
        hint={targets.data && !options.length ? 'No instance with an IPv4 address in this project.' : undefined}
      >
        <Select id="fip-target" autoFocus value={choice} onChange={(e) => setChoice(e.target.value)}>
          {options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.text}
            </option>
          ))}
        </Select>
      </Field>
    </FormDialog>
  );
}
