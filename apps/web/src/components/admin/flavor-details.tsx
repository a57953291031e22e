'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useInvalidate } from '@/lib/resource';
import { QUIET, useTRPC } from '@/lib/trpc';
import { Icon } from '../icons';
import { Modal } from '../modal';
import { useToast } from '../toast';
import { Button, FormError, Select } from '../ui';
import { type SpecRow, SpecRows, specsOf } from './key-values';

/* A flavor's extra specs and project access: the editors of the Flavors panel. */

interface FlavorRef {
  id: string;
  name: string;
}

/** The specs of an existing flavor: remove one, or set (add or overwrite) some. */
export function ExtraSpecsDialog({ flavor, onClose }: { flavor: FlavorRef | null; onClose: () => void }) {
  const trpc = useTRPC();
  const toast = useToast();
  const invalidate = useInvalidate();
  const list = useQuery({ ...trpc.compute.flavors.list.queryOptions({ all: true }), enabled: flavor !== null });
  const current = list.data?.find((f) => f.id === flavor?.id)?.extraSpecs ?? {};
  const set = useMutation(trpc.admin.flavors.setExtraSpecs.mutationOptions(QUIET));
  const remove = useMutation(trpc.admin.flavors.deleteExtraSpec.mutationOptions(QUIET));
  const [rows, setRows] = useState<SpecRow[]>([{ key: '', value: '' }]);
  const [error, setError] = useState<string | null>(null);
  const refresh = () => invalidate(trpc.compute.flavors.pathKey());
  const close = () => {
    setRows([{ key: '', value: '' }]);
    setError(null);
    onClose();
  };
  const save = async () => {
    if (!flavor) return;
    setError(null);
    const specs = specsOf(rows);
    if (typeof specs === 'string') return setError(specs);
    if (Object.keys(specs).length === 0) return close();
    try {
      await set.mutateAsync({ flavorId: flavor.id, extraSpecs: specs });
      toast.success(`Extra specs of ${flavor.name} saved`);
      await refresh();
      setRows([{ key: '', value: '' }]);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const drop = async (key: string) => {
    if (!flavor) return;
    setError(null);
    try {
      await remove.mutateAsync({ flavorId: flavor.id, key });
      await refresh();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const keys = Object.keys(current);
  return (
    <Modal
      open={flavor !== null}
      size="lg"
      title={`Extra specs of ${flavor?.name ?? ''}`}
      description="Scheduler hints and hardware properties (e.g. aggregate_instance_extra_specs:ssd = true)."
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
      {keys.length ? (
        <ul className="divide-y divide-slate-100 rounded-lg border border-slate-200 dark:divide-slate-800 dark:border-slate-800">
          {keys.map((k) => (
            <li key={k} className="flex items-center justify-between gap-3 px-3 py-2" data-testid="extra-spec">
              <code className="text-xs break-all">
                {k} = {current[k]}
              </code>
              <Button variant="ghost" aria-label={`Delete extra spec ${k}`} onClick={() => void drop(k)}>
                <Icon name="trash" className="size-4" />
              </Button>
            </li>
          ))}
        </ul>
      ) : (
        <p className="text-sm text-slate-500">No extra specs yet.</p>
      )}
      <SpecRows rows={rows} onChange={setRows} />
    </Modal>
  );
}

/** The projects that may use a private flavor: add or remove one at a time. */
export function FlavorAccessDialog({ flavor, onClose }: { flavor: FlavorRef | null; onClose: () => void }) {
  const trpc = useTRPC();
  const invalidate = useInvalidate();
  const access = useQuery({
    ...trpc.admin.flavors.access.queryOptions({ flavorId: flavor?.id ?? '' }),
    enabled: flavor !== null,
  });
  const projects = useQuery({ ...trpc.admin.projects.queryOptions(), enabled: flavor !== null });
  const add = useMutation(trpc.admin.flavors.addAccess.mutationOptions(QUIET));
  const remove = useMutation(trpc.admin.flavors.removeAccess.mutationOptions(QUIET));
  const [pick, setPick] = useState('');
  const [error, setError] = useState<string | null>(null);
  const nameOf = (id: string) => projects.data?.find((p) => p.id === id)?.name ?? id;
  const granted = access.data ?? [];
  const refresh = () => invalidate(trpc.admin.flavors.access.pathKey(), trpc.compute.flavors.pathKey());
  const run = async (fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
      await refresh();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const close = () => {
    setPick('');
    setError(null);
    onClose();
  };
  return (
    <Modal
      open={flavor !== null}
      title={`Project access to ${flavor?.name ?? ''}`}
      description="Only admins and these projects see this private flavor."
      onClose={close}
      footer={<Button onClick={close}>Close</Button>}
    >
      <FormError message={error ?? access.error?.message ?? null} />
      {granted.length ? (
        <ul className="divide-y divide-slate-100 rounded-lg border border-slate-200 dark:divide-slate-800 dark:border-slate-800">
          {granted.map((id) => (
            <li key={id} className="flex items-center justify-between gap-3 px-3 py-2" data-testid="flavor-access">
              <span className="text-sm">{nameOf(id)}</span>
              <Button
                variant="ghost"
                aria-label={`Remove access for ${nameOf(id)}`}
                onClick={() => flavor && void run(() => remove.mutateAsync({ flavorId: flavor.id, projectId: id }))}
              >
                <Icon name="trash" className="size-4" />
              </Button>
            </li>
          ))}
        </ul>
      ) : (
        <p className="text-sm text-slate-500">{access.isLoading ? 'Loading…' : 'No project has access yet.'}</p>
      )}
      <div className="flex items-center gap-2">
        <Select aria-label="Project to add" value={pick} onChange={(e) => setPick(e.target.value)}>
          <option value="">Choose a project…</option>
          {projects.data
            ?.filter((p) => !granted.includes(p.id))
            .map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
        </Select>
        <Button
          variant="primary"
          disabled={!pick}
          busy={add.isPending}
          onClick={() =>
            flavor &&
            void run(async () => {
              await add.mutateAsync({ flavorId: flavor.id, projectId: pick });
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
