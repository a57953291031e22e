'use client';
import { useMutation } from '@tanstack/react-query';
import type { inferRouterOutputs } from '@trpc/server';
import { useEffect, useState } from 'react';
import { useInvalidate } from '@/lib/resource';
import { QUIET, useTRPC } from '@/lib/trpc';
import type { AppRouter } from '@/server/routers';
import { FormDialog } from '../modal';
import { useToast } from '../toast';
import { Checkbox, Field, Input, Select, Textarea } from '../ui';

export type ImageRow = inferRouterOutputs<AppRouter>['image']['images']['list']['items'][number];
type Op = { op: 'add' | 'replace' | 'remove'; path: string; value?: unknown };

const toLines = (p: Record<string, string>) =>
  Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
function parseLines(text: string): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line) continue;
    const at = line.indexOf('=');
    if (at <= 0) return `Line ${i + 1}: write properties as key=value.`;
    out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

/** Edits name, visibility, minimums, protection and free-form properties as one JSON patch. */
export function EditImageDialog({
  image,
  onClose,
  canPublicize,
}: {
  image: ImageRow | null;
  onClose: () => void;
  canPublicize: boolean;
}) {
  const trpc = useTRPC();
  const toast = useToast();
  const invalidate = useInvalidate();
  const update = useMutation(trpc.image.images.update.mutationOptions(QUIET));
  const [name, setName] = useState('');
  const [visibility, setVisibility] = useState('private');
  const [minDisk, setMinDisk] = useState('0');
  const [minRam, setMinRam] = useState('0');
  const [prot, setProt] = useState(false);
  const [props, setProps] = useState('');
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!image) return;
    setName(image.name ?? '');
    setVisibility(image.visibility);
    setMinDisk(String(image.minDisk));
    setMinRam(String(image.minRam));
    setProt(image.protected);
    setProps(toLines(image.properties));
    setError(null);
  }, [image]);
  const save = async () => {
    if (!image) return;
    const parsed = parseLines(props);
    if (typeof parsed === 'string') return setError(parsed);
    const patch: Op[] = [];
    if (name !== (image.name ?? '')) patch.push({ op: 'replace', path: '/name', value: name || null });
    if (visibility !== image.visibility) patch.push({ op: 'replace', path: '/visibility', value: visibility });
    if (Number(minDisk) !== image.minDisk)
      patch.push({ op: 'replace', path: '/min_disk', value: Number(minDisk) || 0 });
    if (Number(minRam) !== image.minRam) patch.push({ op: 'replace', path: '/min_ram', value: Number(minRam) || 0 });
    if (prot !== image.protected) patch.push({ op: 'replace', path: '/protected', value: prot });
    for (const [k, v] of Object.entries(parsed))
      if (image.properties[k] !== v)
        patch.push({ op: k in image.properties ? 'replace' : 'add', path: `/${k}`, value: v });
    for (const k of Object.keys(image.properties)) if (!(k in parsed)) patch.push({ op: 'remove', path: `/${k}` });
    if (patch.length === 0) return onClose();
    setError(null);
    try {
      await update.mutateAsync({ imageId: image.id, patch });
      await invalidate(trpc.image.images.pathKey());
      toast.success(`Image ${name || image.id} saved`);
      onClose();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <FormDialog
      open={image !== null}
      title={`Edit image ${image?.name ?? ''}`}
      onClose={onClose}
      onSubmit={() => void save()}
      submitLabel="Save"
      busy={update.isPending}
      error={error}
    >
      <div className="grid gap-4 sm:grid-cols-2">
        <Field label="Name" htmlFor="edit-image-name">
          <Input id="edit-image-name" autoFocus value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
        <Field label="Visibility" htmlFor="edit-image-visibility">
          <Select id="edit-image-visibility" value={visibility} onChange={(e) => setVisibility(e.target.value)}>
            <option value="private">Private</option>
            <option value="shared">Shared</option>
            <option value="community">Community</option>
            {(canPublicize || visibility === 'public') && <option value="public">Public</option>}
          </Select>
        </Field>
        <Field label="Min disk (GB)" htmlFor="edit-image-min-disk">
          <Input
            id="edit-image-min-disk"
            type="number"
            min={0}
            value={minDisk}
            onChange={(e) => setMinDisk(e.target.value)}
          />
        </Field>
        <Field label="Min RAM (MB)" htmlFor="edit-image-min-ram">
          <Input
            id="edit-image-min-ram"
            type="number"
            min={0}
            value={minRam}
            onChange={(e) => setMinRam(e.target.value)}
          />
        </Field>
      </div>
      <Field
        label="Properties"
        htmlFor="edit-image-props"
        hint="One key=value a line, e.g. os_distro=debian, hw_disk_bus=virtio."
      >
        <Textarea
          id="edit-image-props"
          rows={5}
          className="font-mono text-xs"
          value={props}
          onChange={(e) => setProps(e.target.value)}
        />
      </Field>
      <Checkbox
        id="edit-image-protected"
        label="Protected (cannot be deleted)"
        checked={prot}
        onChange={(e) => setProt(e.target.checked)}
      />
    </FormDialog>
  );
}
