'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { ExtraSpecsDialog, FlavorAccessDialog } from '@/components/admin/flavor-details';
import { type SpecRow, SpecRows, specsOf } from '@/components/admin/key-values';
import { formatRam } from '@/components/compute/status';
import { DataTable } from '@/components/data-table';
import { Icon } from '@/components/icons';
import { ConfirmDialog, Modal } from '@/components/modal';
import { useToast } from '@/components/toast';
import { Badge, Button, Checkbox, Field, FormError, Input, PageHeader } from '@/components/ui';
import { useInvalidate } from '@/lib/resource';
import { QUIET, useTRPC } from '@/lib/trpc';

export function FlavorsPanel() {
  const trpc = useTRPC();
  const toast = useToast();
  const invalidate = useInvalidate();
  const query = useQuery(trpc.compute.flavors.list.queryOptions({ all: true }));
  const remove = useMutation(trpc.compute.flavors.delete.mutationOptions());
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<{ id: string; name: string } | null>(null);
  const [specs, setSpecs] = useState<{ id: string; name: string } | null>(null);
  const [access, setAccess] = useState<{ id: string; name: string } | null>(null);
  return (
    <>
      <PageHeader
        title="Flavors"
        description="Server sizes offered to projects. Sizes cannot be edited (create a new flavor and delete the old); extra specs and project access can."
        actions={
          <Button variant="primary" onClick={() => setCreating(true)}>
            <Icon name="plus" className="size-4" /> Create flavor
          </Button>
        }
      />
      <DataTable
        label="Flavors"
        rows={query.data}
        rowKey={(f) => f.id}
        loading={query.isLoading}
        error={query.error}
        empty="No flavors yet."
        columns={[
          {
            header: 'Name',
            cell: (f) => (
              <div>
                <div className="font-medium">{f.name}</div>
                <code className="text-xs text-slate-500">{f.id}</code>
              </div>
            ),
          },
          { header: 'vCPUs', cell: (f) => f.vcpus, className: 'tabular-nums' },
          { header: 'RAM', cell: (f) => formatRam(f.ramMb), className: 'tabular-nums' },
          { header: 'Root disk', cell: (f) => `${f.diskGb} GB`, className: 'tabular-nums' },
          { header: 'Ephemeral', cell: (f) => `${f.ephemeralGb} GB`, className: 'hidden md:table-cell tabular-nums' },
          { header: 'Swap', cell: (f) => (f.swapMb ? formatRam(f.swapMb) : '—'), className: 'hidden md:table-cell' },
          {
            header: 'Extra specs',
            cell: (f) => {
              const keys = Object.keys(f.extraSpecs);
              return keys.length ? (
                <ul className="space-y-0.5 font-mono text-xs" data-testid="flavor-specs">
                  {keys.slice(0, 3).map((k) => (
                    <li key={k}>
                      {k}={f.extraSpecs[k]}
                    </li>
                  ))}
                  {keys.length > 3 && <li className="text-slate-500">+{keys.length - 3} more</li>}
                </ul>
              ) : (
                <span className="text-slate-400">—</span>
              );
            },
            className: 'hidden lg:table-cell',
          },
          {
            header: 'Access',
            cell: (f) => <Badge tone={f.isPublic ? 'sky' : 'amber'}>{f.isPublic ? 'public' : 'private'}</Badge>,
          },
        ]}
        actions={[
          { label: 'Extra specs', onSelect: (f) => setSpecs(f) },
          { label: 'Project access', onSelect: (f) => setAccess(f), hidden: (f) => f.isPublic },
          { label: 'Delete', danger: true, onSelect: (f) => setDeleting(f) },
        ]}
      />
      <FlavorDialog open={creating} onClose={() => setCreating(false)} />
      <ExtraSpecsDialog flavor={specs} onClose={() => setSpecs(null)} />
      <FlavorAccessDialog flavor={access} onClose={() => setAccess(null)} />
      <ConfirmDialog
        open={deleting !== null}
        title="Delete flavor"
        message={
          <>
            Delete flavor <strong>{deleting?.name}</strong>? Existing instances keep their size; new ones cannot use it.
          </>
        }
        busy={remove.isPending}
        onClose={() => setDeleting(null)}
        onConfirm={() =>
          deleting &&
          void remove.mutateAsync({ flavorId: deleting.id }).then(
            async () => {
              toast.success(`Flavor ${deleting.name} deleted`);
              setDeleting(null);
              await invalidate(trpc.compute.flavors.pathKey());
            },
            () => {},
          )
        }
      />
    </>
  );
}

function FlavorDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const trpc = useTRPC();
  const toast = useToast();
  const invalidate = useInvalidate();
  const create = useMutation(trpc.admin.flavors.create.mutationOptions(QUIET));
  const projects = useQuery({ ...trpc.admin.projects.queryOptions(), enabled: open });
  const blank = {
    name: '',
    id: '',
    vcpus: '1',
    ramMb: '512',
    diskGb: '1',
    ephemeralGb: '0',
    swapMb: '0',
    description: '',
    isPublic: true,
  };
  const [v, setV] = useState(blank);
  const [rows, setRows] = useState<SpecRow[]>([]);
  const [projectIds, setProjectIds] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const set = (k: keyof typeof blank, value: string | boolean) => setV((x) => ({ ...x, [k]: value }));
  const close = () => {
    setV(blank);
    setRows([]);
    setProjectIds([]);
    setError(null);
    onClose();
  };
  const submit = async () => {
    setError(null);
    const extraSpecs = specsOf(rows);
    if (typeof extraSpecs === 'string') return setError(extraSpecs);
    try {
      const f = await create.mutateAsync({
        flavor: {
          name: v.name.trim(),
          id: v.id.trim() || undefined,
          description: v.description.trim() || undefined,
          vcpus: Number(v.vcpus),
          ramMb: Number(v.ramMb),
          diskGb: Number(v.diskGb),
          ephemeralGb: Number(v.ephemeralGb),
          swapMb: Number(v.swapMb),
          isPublic: v.isPublic,
        },
        extraSpecs,
        projectIds: v.isPublic ? [] : projectIds,
      });
      toast.success(`Flavor ${f.name} created`);
      await invalidate(trpc.compute.flavors.pathKey());
      close();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const num = (k: keyof typeof blank, label: string) => (
    <Field label={label} htmlFor={`flavor-${k}`}>
      <Input id={`flavor-${k}`} type="number" min={0} value={String(v[k])} onChange={(e) => set(k, e.target.value)} />
    </Field>
  );
  return (
    <Modal
      open={open}
      size="lg"
      title="Create flavor"
      onClose={close}
      onSubmit={() => void submit()}
      footer={
        <>
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant="primary" busy={create.isPending}>
            Create flavor
          </Button>
        </>
      }
    >
      <FormError message={error} />
      <div className="grid gap-4 sm:grid-cols-2">
        <Field label="Name" htmlFor="flavor-name">
          <Input id="flavor-name" autoFocus value={v.name} onChange={(e) => set('name', e.target.value)} />
        </Field>
        <Field label="ID" htmlFor="flavor-id" hint="Empty: a UUID is generated.">
          <Input id="flavor-id" value={v.id} onChange={(e) => set('id', e.target.value)} />
        </Field>
        {num('vcpus', 'vCPUs')}
        {num('ramMb', 'RAM (MB)')}
        {num('diskGb', 'Root disk (GB)')}
        {num('ephemeralGb', 'Ephemeral disk (GB)')}
        {num('swapMb', 'Swap (MB)')}
      </div>
      <Field label="Description" htmlFor="flavor-description">
        <Input id="flavor-description" value={v.description} onChange={(e) => set('description', e.target.value)} />
      </Field>
      <SpecRows rows={rows} onChange={setRows} />
      <Checkbox
        id="flavor-public"
        label="Public (every project may use it)"
        checked={v.isPublic}
        onChange={(e) => set('isPublic', e.target.checked)}
      />
      {!v.isPublic && (
        <fieldset className="space-y-2">
          <legend className="text-sm font-medium text-slate-700 dark:text-slate-200">Projects with access</legend>
          <div className="max-h-40 space-y-1 overflow-y-auto rounded-lg border border-slate-200 p-2 dark:border-slate-800">
            {projects.data?.map((p) => (
              <Checkbox
                key={p.id}
                id={`flavor-project-${p.id}`}
                label={p.name}
                checked={projectIds.includes(p.id)}
                onChange={(e) =>
                  setProjectIds((xs) => (e.target.checked ? [...xs, p.id] : xs.filter((x) => x !== p.id)))
                }
              />
            )) ?? <p className="text-sm text-slate-500">Loading projects…</p>}
          </div>
          <p className="text-xs text-slate-500">A private flavor is seen only by admins and these projects.</p>
        </fieldset>
      )}
    </Modal>
  );
}
