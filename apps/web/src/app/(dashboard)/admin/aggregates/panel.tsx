'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import type { inferRouterOutputs } from '@trpc/server';
import { useState } from 'react';
import { type SpecRow, SpecRows, specsOf } from '@/components/admin/key-values';
import { DataTable } from '@/components/data-table';
import { Icon } from '@/components/icons';
import { ConfirmDialog, Modal } from '@/components/modal';
import { useToast } from '@/components/toast';
import { Badge, Button, Field, FormError, Input, PageHeader, Select } from '@/components/ui';
import { useInvalidate } from '@/lib/resource';
import { QUIET, useTRPC } from '@/lib/trpc';
import type { AppRouter } from '@/server/routers';

type Aggregate = inferRouterOutputs<AppRouter>['admin']['aggregates']['list'][number];
const AZ_KEY = 'availability_zone';

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Host aggregates: groups of compute hosts with metadata for the scheduler
 * (AggregateInstanceExtraSpecsFilter matches flavor extra specs against it), and an
 * availability zone when `availability_zone` is set. Core keeps one zone per host.
 * Live through aggregate.* events.
 */
export function AggregatesPanel() {
  const trpc = useTRPC();
  const toast = useToast();
  const invalidate = useInvalidate();
  const query = useQuery(trpc.admin.aggregates.list.queryOptions());
  const remove = useMutation(trpc.admin.aggregates.delete.mutationOptions());
  const [editing, setEditing] = useState<{ row: Aggregate | null } | null>(null);
  const [hostsOf, setHostsOf] = useState<number | null>(null);
  const [metadataOf, setMetadataOf] = useState<number | null>(null);
  const [deleting, setDeleting] = useState<Aggregate | null>(null);
  const byId = (id: number | null) => query.data?.find((a) => a.id === id) ?? null;
  return (
    <>
      <PageHeader
        title="Host aggregates"
        description="Groups of compute hosts with metadata the scheduler matches against flavor extra specs; an availability zone when one is set. A host is in one zone at most."
        actions={
          <Button variant="primary" onClick={() => setEditing({ row: null })}>
            <Icon name="plus" className="size-4" /> Create aggregate
          </Button>
        }
      />
      <DataTable
        label="Host aggregates"
        rows={query.data}
        rowKey={(a) => String(a.id)}
        loading={query.isLoading}
        error={query.error}
        empty="No host aggregates yet. Every host is in the default availability zone."
        columns={[
          {
            header: 'Name',
            cell: (a) => (
              <div data-testid="aggregate-row" data-name={a.name}>
                <div className="font-medium">{a.name}</div>
                <code className="text-xs text-slate-500">{a.uuid}</code>
              </div>
            ),
          },
          {
            header: 'Availability zone',
            cell: (a) =>
              a.availabilityZone ? (
                <Badge tone="sky">{a.availabilityZone}</Badge>
              ) : (
                <span className="text-slate-400">—</span>
              ),
          },
          {
            header: 'Hosts',
            cell: (a) =>
              a.hosts.length ? (
                <ul className="flex flex-wrap gap-1" data-testid="aggregate-hosts">
                  {a.hosts.map((h) => (
                    <li key={h}>
                      <Badge>{h}</Badge>
                    </li>
                  ))}
                </ul>
              ) : (
                <span className="text-slate-400">none</span>
              ),
          },
          {
            header: 'Metadata',
            cell: (a) => {
              const keys = Object.keys(a.metadata).filter((k) => k !== AZ_KEY);
              return keys.length ? (
                <ul className="space-y-0.5 font-mono text-xs" data-testid="aggregate-metadata">
                  {keys.map((k) => (
                    <li key={k}>
                      {k}={a.metadata[k]}
                    </li>
                  ))}
                </ul>
              ) : (
                <span className="text-slate-400">—</span>
              );
            },
            className: 'hidden md:table-cell',
          },
        ]}
        actions={[
          { label: 'Edit', onSelect: (a) => setEditing({ row: a }) },
          { label: 'Manage hosts', onSelect: (a) => setHostsOf(a.id) },
          { label: 'Edit metadata', onSelect: (a) => setMetadataOf(a.id) },
          { label: 'Delete', danger: true, onSelect: setDeleting },
        ]}
      />
      <AggregateDialog state={editing} onClose={() => setEditing(null)} />
      <HostsDialog aggregate={byId(hostsOf)} onClose={() => setHostsOf(null)} />
      <MetadataDialog aggregate={byId(metadataOf)} onClose={() => setMetadataOf(null)} />
      <ConfirmDialog
        open={deleting !== null}
        title="Delete aggregate"
        message={
          deleting &&
          (deleting.hosts.length ? (
            <>
              <strong>{deleting.name}</strong> still has {deleting.hosts.length} host
              {deleting.hosts.length === 1 ? '' : 's'}; remove them first (Manage hosts).
            </>
          ) : (
            <>
              Delete aggregate <strong>{deleting.name}</strong>
              {deleting.availabilityZone ? ` and with it availability zone ${deleting.availabilityZone}` : ''}?
            </>
          ))
        }
        busy={remove.isPending}
        onClose={() => setDeleting(null)}
        onConfirm={() =>
          deleting &&
          void remove.mutateAsync({ id: deleting.id }).then(
            async () => {
              toast.success(`Aggregate ${deleting.name} deleted`);
              setDeleting(null);
              await invalidate(trpc.admin.aggregates.pathKey());
            },
            () => {},
          )
        }
      />
    </>
  );
}

/** Create, or rename / move to another zone. */
function AggregateDialog({ state, onClose }: { state: { row: Aggregate | null } | null; onClose: () => void }) {
  const row = state?.row ?? null;
  // Remounted per opening, so the fields start from the row being edited.
  return state ? <AggregateForm key={row?.id ?? 'new'} row={row} onClose={onClose} /> : null;
}

function AggregateForm({ row, onClose }: { row: Aggregate | null; onClose: () => void }) {
  const trpc = useTRPC();
  const toast = useToast();
  const invalidate = useInvalidate();
  const create = useMutation(trpc.admin.aggregates.create.mutationOptions(QUIET));
  const update = useMutation(trpc.admin.aggregates.update.mutationOptions(QUIET));
  const [name, setName] = useState(row?.name ?? '');
  const [zone, setZone] = useState(row?.availabilityZone ?? '');
  const [error, setError] = useState<string | null>(null);
  const submit = async () => {
    setError(null);
    if (!name.trim()) return setError('A name is required.');
    try {
      if (row) {
        await update.mutateAsync({
          id: row.id,
          name: name.trim() !== row.name ? name.trim() : undefined,
          // Core keeps the zone when none is given; clearing it is done in the metadata.
          availabilityZone: zone.trim() && zone.trim() !== row.availabilityZone ? zone.trim() : undefined,
        });
        toast.success(`Aggregate ${name.trim()} saved`);
      } else {
        await create.mutateAsync({ name: name.trim(), availabilityZone: zone.trim() || null });
        toast.success(`Aggregate ${name.trim()} created`);
      }
      await invalidate(trpc.admin.aggregates.pathKey(), trpc.admin.services.pathKey());
      onClose();
    } catch (e) {
      setError(errorText(e));
    }
  };
  const unchanged = row !== null && name.trim() === row.name && (zone.trim() || null) === row.availabilityZone;
  return (
    <Modal
      open
      title={row ? `Edit aggregate ${row.name}` : 'Create aggregate'}
      onClose={onClose}
      onSubmit={() => (unchanged ? onClose() : void submit())}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={create.isPending || update.isPending}>
            {row ? 'Save' : 'Create aggregate'}
          </Button>
        </>
      }
    >
      <FormError message={error} />
      <Field label="Name" htmlFor="aggregate-name">
        <Input id="aggregate-name" autoFocus maxLength={255} value={name} onChange={(e) => setName(e.target.value)} />
      </Field>
      <Field
        label="Availability zone"
        htmlFor="aggregate-zone"
        hint={
          row?.availabilityZone
            ? 'Another name moves the hosts to that zone; remove the availability_zone metadata to leave zones.'
            : 'Optional: its hosts then form this zone.'
        }
      >
        <Input id="aggregate-zone" maxLength={255} value={zone} onChange={(e) => setZone(e.target.value)} />
      </Field>
    </Modal>
  );
}

function HostsDialog({ aggregate, onClose }: { aggregate: Aggregate | null; onClose: () => void }) {
  const trpc = useTRPC();
  const invalidate = useInvalidate();
  const hosts = useQuery({ ...trpc.admin.hypervisors.list.queryOptions(), enabled: aggregate !== null });
  const add = useMutation(trpc.admin.aggregates.addHost.mutationOptions(QUIET));
  const remove = useMutation(trpc.admin.aggregates.removeHost.mutationOptions(QUIET));
  const [pick, setPick] = useState('');
  const [error, setError] = useState<string | null>(null);
  const run = async (fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
      await invalidate(trpc.admin.aggregates.pathKey(), trpc.admin.services.pathKey());
    } catch (e) {
      setError(errorText(e));
    }
  };
  const close = () => {
    setPick('');
    setError(null);
    onClose();
  };
  const members = aggregate?.hosts ?? [];
  return (
    <Modal
      open={aggregate !== null}
      title={`Hosts of ${aggregate?.name ?? ''}`}
      description={
        aggregate?.availabilityZone ? `Hosts added here move to zone ${aggregate.availabilityZone}.` : undefined
      }
      onClose={close}
      footer={<Button onClick={close}>Close</Button>}
    >
      <FormError message={error} />
      {members.length ? (
        <ul className="divide-y divide-slate-100 rounded-lg border border-slate-200 dark:divide-slate-800 dark:border-slate-800">
          {members.map((h) => (
            <li key={h} className="flex items-center justify-between gap-3 px-3 py-2" data-testid="aggregate-host">
              <span className="text-sm">{h}</span>
              <Button
                variant="ghost"
                aria-label={`Remove host ${h}`}
                busy={remove.isPending && remove.variables?.host === h}
                onClick={() => aggregate && void run(() => remove.mutateAsync({ id: aggregate.id, host: h }))}
              >
                <Icon name="trash" className="size-4" />
              </Button>
            </li>
          ))}
        </ul>
      ) : (
        <p className="text-sm text-slate-500">No hosts yet.</p>
      )}
      <div className="flex items-center gap-2">
        <Select aria-label="Host to add" value={pick} onChange={(e) => setPick(e.target.value)}>
          <option value="">Choose a compute host…</option>
          {hosts.data?.hypervisors
            .filter((h) => !members.includes(h.host))
            .map((h) => (
              <option key={h.id} value={h.host}>
                {h.host}
              </option>
            ))}
        </Select>
        <Button
          variant="primary"
          disabled={!pick}
          busy={add.isPending}
          onClick={() =>
            aggregate &&
            void run(async () => {
              await add.mutateAsync({ id: aggregate.id, host: pick });
              setPick('');
            })
          }
        >
          Add
        </Button>
      </div>
    </Modal>
  );
}

function MetadataDialog({ aggregate, onClose }: { aggregate: Aggregate | null; onClose: () => void }) {
  const trpc = useTRPC();
  const invalidate = useInvalidate();
  const set = useMutation(trpc.admin.aggregates.setMetadata.mutationOptions(QUIET));
  const [rows, setRows] = useState<SpecRow[]>([{ key: '', value: '' }]);
  const [error, setError] = useState<string | null>(null);
  const close = () => {
    setRows([{ key: '', value: '' }]);
    setError(null);
    onClose();
  };
  const write = async (metadata: Record<string, string | null>) => {
    if (!aggregate) return false;
    setError(null);
    try {
      await set.mutateAsync({ id: aggregate.id, metadata });
      await invalidate(trpc.admin.aggregates.pathKey(), trpc.admin.services.pathKey());
      return true;
    } catch (e) {
      setError(errorText(e));
      return false;
    }
  };
  const save = async () => {
    const m = specsOf(rows, 'metadata item');
    if (typeof m === 'string') return setError(m);
    if (Object.keys(m).length === 0) return close();
    if (await write(m)) setRows([{ key: '', value: '' }]);
  };
  const entries = Object.entries(aggregate?.metadata ?? {});
  return (
    <Modal
      open={aggregate !== null}
      size="lg"
      title={`Metadata of ${aggregate?.name ?? ''}`}
      description="Matched by flavors' aggregate_instance_extra_specs:<key>; availability_zone sets the zone."
      onClose={close}
      onSubmit={() => void save()}
      footer={
        <>
          <Button onClick={close}>Close</Button>
          <Button type="submit" variant="primary" busy={set.isPending}>
            Save
          </Button>
        </>
      }
    >
      <FormError message={error} />
      {entries.length ? (
        <ul className="divide-y divide-slate-100 rounded-lg border border-slate-200 dark:divide-slate-800 dark:border-slate-800">
          {entries.map(([k, v]) => (
            <li
              key={k}
              className="flex items-center justify-between gap-3 px-3 py-2"
              data-testid="aggregate-metadata-item"
            >
              <code className="text-xs break-all">
                {k} = {v}
              </code>
              <Button variant="ghost" aria-label={`Delete metadata ${k}`} onClick={() => void write({ [k]: null })}>
                <Icon name="trash" className="size-4" />
              </Button>
            </li>
          ))}
        </ul>
      ) : (
        <p className="text-sm text-slate-500">No metadata yet.</p>
      )}
      <SpecRows rows={rows} onChange={setRows} noun="Metadata" legend="Set metadata" placeholder="key, e.g. ssd" />
    </Modal>
  );
}
