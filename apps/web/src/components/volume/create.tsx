'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import { useInvalidate } from '@/lib/resource';
import { QUIET, useTRPC } from '@/lib/trpc';
import { formatBytes } from '../compute/status';
import { Modal } from '../modal';
import { useToast } from '../toast';
import { Button, Field, FormError, Input, Select, Textarea } from '../ui';
import { volumeLabel } from './status';

export type VolumeSourceKind = 'blank' | 'image' | 'snapshot' | 'volume';
export interface CreateVolumePreset {
  source?: VolumeSourceKind;
  sourceId?: string;
}

const GiB = 1024 ** 3;
const SOURCES: Array<[VolumeSourceKind, string]> = [
  ['blank', 'No source, empty volume'],
  ['image', 'Image'],
  ['snapshot', 'Volume snapshot'],
  ['volume', 'Another volume'],
];

/**
 * Create a volume: blank, from an image, a snapshot or another volume; type, size and
 * zone. The quota check runs here before sending (what fits is shown as one types) and
 * again in core under the project's lock, whose 413 message lands in the same place.
 */
export function CreateVolumeDialog({
  open,
  preset,
  onClose,
}: {
  open: boolean;
  preset?: CreateVolumePreset;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const toast = useToast();
  const router = useRouter();
  const invalidate = useInvalidate();
  const create = useMutation(trpc.volume.volumes.create.mutationOptions(QUIET));
  const [source, setSource] = useState<VolumeSourceKind>('blank');
  const [sourceId, setSourceId] = useState('');
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [size, setSize] = useState('1');
  const [sizeTouched, setSizeTouched] = useState(false);
  const [type, setType] = useState('');
  const [zone, setZone] = useState('');
  const [error, setError] = useState<string | null>(null);

  const types = useQuery({ ...trpc.volume.types.queryOptions(), enabled: open });
  const zones = useQuery({ ...trpc.volume.zones.queryOptions(), enabled: open });
  const quotas = useQuery({ ...trpc.volume.quotas.queryOptions(), enabled: open, retry: false });
  const images = useQuery({
    ...trpc.image.images.list.queryOptions({ status: 'active', limit: 100 }),
    enabled: open && source === 'image',
  });
  const snapshots = useQuery({
    ...trpc.volume.snapshots.list.queryOptions({ status: 'available', limit: 200 }),
    enabled: open && source === 'snapshot',
  });
  const volumes = useQuery({
    ...trpc.volume.volumes.list.queryOptions({ status: 'available', limit: 200 }),
    enabled: open && source === 'volume',
  });

  useEffect(() => {
    if (!open) return;
    setSource(preset?.source ?? 'blank');
    setSourceId(preset?.sourceId ?? '');
    setName('');
    setDescription('');
    setSize('1');
    setSizeTouched(false);
    setType('');
    setZone('');
    setError(null);
  }, [open, preset]);

  // The smallest size the source allows (core refuses less with Cinder's message).
  let minGb = 1;
  if (source === 'image') {
    const i = images.data?.items.find((x) => x.id === sourceId);
    if (i) minGb = Math.max(1, i.minDisk, Math.ceil((i.virtualSize ?? i.size ?? 0) / GiB));
  } else if (source === 'snapshot') {
    minGb = snapshots.data?.items.find((x) => x.id === sourceId)?.size ?? 1;
  } else if (source === 'volume') {
    minGb = volumes.data?.items.find((x) => x.id === sourceId)?.size ?? 1;
  }
  useEffect(() => {
    if (!sizeTouched) setSize(String(minGb));
  }, [minGb, sizeTouched]);

  const n = Number(size);
  const q = quotas.data;
  const over = (() => {
    if (!q || !Number.isInteger(n) || n < 1) return null;
    if (q.volumes.limit >= 0 && q.volumes.inUse + 1 > q.volumes.limit)
      return `Over quota: this project has ${q.volumes.inUse} of ${q.volumes.limit} volumes.`;
    if (q.gigabytes.limit >= 0 && q.gigabytes.inUse + n > q.gigabytes.limit)
      return `Over quota: ${n} GiB more would pass the ${q.gigabytes.limit} GiB limit (${q.gigabytes.inUse} GiB used).`;
    if (q.perVolumeGigabytes.limit >= 0 && n > q.perVolumeGigabytes.limit)
      return `Over quota: a volume may be at most ${q.perVolumeGigabytes.limit} GiB.`;
    return null;
  })();

  const submit = async () => {
    if (!Number.isInteger(n) || n < 1) return setError('The size is a whole number of GiB, at least 1.');
    if (n < minGb) return setError(`The source needs at least ${minGb} GiB.`);
    if (source !== 'blank' && !sourceId) return setError('Choose the source.');
    if (over) return setError(over);
    setError(null);
    try {
      const v = await create.mutateAsync({
        name: name.trim() || undefined,
        description: description.trim() || undefined,
        size: n,
        volumeType: type || undefined,
        availabilityZone: zone || undefined,
        ...(source === 'image' ? { imageRef: sourceId } : {}),
        ...(source === 'snapshot' ? { snapshotId: sourceId } : {}),
        ...(source === 'volume' ? { sourceVolId: sourceId } : {}),
      });
      await invalidate(trpc.volume.pathKey());
      toast.success(`Volume ${volumeLabel(v)} is being created`);
      onClose();
      router.push('/project/volumes');
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  const sourceOptions: Array<{ id: string; label: string }> =
    source === 'image'
      ? (images.data?.items ?? []).map((i) => ({
          id: i.id,
          label: `${i.name ?? i.id} (${formatBytes(i.virtualSize ?? i.size)})`,
        }))
      : source === 'snapshot'
        ? (snapshots.data?.items ?? []).map((s) => ({ id: s.id, label: `${volumeLabel(s)} (${s.size} GiB)` }))
        : source === 'volume'
          ? (volumes.data?.items ?? []).map((v) => ({ id: v.id, label: `${volumeLabel(v)} (${v.size} GiB)` }))
          : [];
  const chosenType = types.data?.find((t) => t.name === type);

  return (
    <Modal
      open={open}
      size="lg"
      title="Create volume"
      description="A persistent disk you can attach to instances, snapshot and back up."
      onClose={onClose}
      onSubmit={() => void submit()}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={create.isPending}>
            Create volume
          </Button>
        </>
      }
    >
      <FormError message={error} />
      <div className="grid gap-4 sm:grid-cols-2">
        <Field label="Name" htmlFor="volume-name">
          <Input id="volume-name" autoFocus value={name} onChange={(e) => setName(e.target.value)} maxLength={255} />
        </Field>
        <Field label="Volume source" htmlFor="volume-source">
          <Select
            id="volume-source"
            value={source}
            onChange={(e) => {
              setSource(SOURCES.find(([k]) => k === e.target.value)?.[0] ?? 'blank');
              setSourceId('');
              setSizeTouched(false);
            }}
          >
            {SOURCES.map(([k, label]) => (
              <option key={k} value={k}>
                {label}
              </option>
            ))}
          </Select>
        </Field>
        {source !== 'blank' && (
          <Field
            label={source === 'image' ? 'Image' : source === 'snapshot' ? 'Snapshot' : 'Source volume'}
            htmlFor="volume-source-id"
            hint={sourceOptions.length === 0 ? 'Nothing available to create from.' : undefined}
          >
            <Select
              id="volume-source-id"
              value={sourceId}
              onChange={(e) => {
                setSourceId(e.target.value);
                setSizeTouched(false);
              }}
            >
              <option value="">Choose…</option>
              {sourceOptions.map((o) => (
                <option key={o.id} value={o.id}>
                  {o.label}
                </option>
              ))}
            </Select>
          </Field>
        )}
        <Field
          label="Size (GiB)"
          htmlFor="volume-size"
          hint={minGb > 1 ? `At least ${minGb} GiB for this source.` : undefined}
        >
          <Input
            id="volume-size"
            type="number"
            min={minGb}
            step={1}
            value={size}
            onChange={(e) => {
              setSize(e.target.value);
              setSizeTouched(true);
            }}
          />
        </Field>
        <Field
          label="Type"
          htmlFor="volume-type"
          hint={
            source === 'snapshot' || source === 'volume'
              ? 'Default: the type of the source.'
              : (chosenType?.description ?? undefined)
          }
        >
          <Select id="volume-type" value={type} onChange={(e) => setType(e.target.value)}>
            <option value="">{source === 'snapshot' || source === 'volume' ? 'Same as source' : 'Default type'}</option>
            {types.data?.map((t) => (
              <option key={t.id} value={t.name}>
                {t.name}
                {t.extraSpecs.multiattach && /true/i.test(t.extraSpecs.multiattach) ? ' (multiattach)' : ''}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Availability zone" htmlFor="volume-zone">
          <Select id="volume-zone" value={zone} onChange={(e) => setZone(e.target.value)}>
            <option value="">Any zone</option>
            {zones.data?.map((z) => (
              <option key={z.name} value={z.name} disabled={!z.available}>
                {z.name}
                {z.available ? '' : ' (unavailable)'}
              </option>
            ))}
          </Select>
        </Field>
      </div>
      <Field label="Description" htmlFor="volume-description">
        <Textarea
          id="volume-description"
          rows={2}
          maxLength={255}
          value={description}
          onChange={(e) => setDescription(e.target.value)}
        />
      </Field>
      {q && (
        <div
          data-testid="volume-quota"
          className={`rounded-lg px-3 py-2 text-sm ${over ? 'bg-rose-50 text-rose-700 dark:bg-rose-500/10 dark:text-rose-300' : 'bg-slate-50 text-slate-600 dark:bg-slate-800/60 dark:text-slate-300'}`}
        >
          {over ?? (
            <>
              Quota: {q.volumes.inUse} of {q.volumes.limit < 0 ? 'unlimited' : q.volumes.limit} volumes,{' '}
              {q.gigabytes.inUse} of {q.gigabytes.limit < 0 ? 'unlimited' : q.gigabytes.limit} GiB used.
            </>
          )}
        </div>
      )}
    </Modal>
  );
}
