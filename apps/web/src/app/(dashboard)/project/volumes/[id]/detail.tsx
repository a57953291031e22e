'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { type ReactNode, useEffect, useState } from 'react';
import { useToast } from '@/components/toast';
import { Badge, Button, Card, FormError, Spinner, Textarea } from '@/components/ui';
import { CreateVolumeDialog, type CreateVolumePreset } from '@/components/volume/create';
import { useVolumeActions, VOLUME_POLICIES, volumeMenu } from '@/components/volume/dialogs';
import { DeleteSnapshotDialog } from '@/components/volume/snapshot-dialogs';
import { BackupLocation, type SnapshotRow, StorageStatus, volumeLabel } from '@/components/volume/status';
import { useCan } from '@/lib/can';
import { useInvalidate } from '@/lib/resource';
import { QUIET, useTRPC } from '@/lib/trpc';

function Prop({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="grid grid-cols-3 gap-4 py-2 text-sm">
      <dt className="text-slate-500 dark:text-slate-400">{label}</dt>
      <dd className="col-span-2 min-w-0 break-words">{children ?? <span className="text-slate-400">—</span>}</dd>
    </div>
  );
}

const when = (iso: string | null) => (iso ? `${iso.replace('T', ' ').slice(0, 19)} UTC` : null);

/** One volume: its facts, attachments (with device names), metadata, snapshots, backups; all live. */
export function VolumeDetail({ id }: { id: string }) {
  const trpc = useTRPC();
  const router = useRouter();
  const can = useCan([...VOLUME_POLICIES, 'volume:delete_snapshot', 'volume:delete_transfer']);
  const q = useQuery(trpc.volume.volumes.get.queryOptions({ volumeId: id }));
  const servers = useQuery({
    ...trpc.compute.servers.list.queryOptions({ limit: 200 }),
    enabled: (q.data?.attachments.length ?? 0) > 0,
  });
  const snapshots = useQuery(trpc.volume.snapshots.list.queryOptions({ volumeId: id, limit: 200 }));
  const backups = useQuery(trpc.volume.backups.list.queryOptions({ volumeId: id, limit: 200 }));
  const transfers = useQuery({
    ...trpc.volume.transfers.list.queryOptions(),
    enabled: q.data?.status === 'awaiting-transfer',
  });
  const { open, dialog } = useVolumeActions({ onDeleted: () => router.push('/project/volumes') });
  const [preset, setPreset] = useState<CreateVolumePreset | null>(null);
  const [deletingSnap, setDeletingSnap] = useState<SnapshotRow | null>(null);
  const v = q.data;
  if (q.isLoading) return <Spinner className="size-6 text-sky-600" />;
  if (q.error || !v)
    return (
      <div className="space-y-2">
        <p role="alert" className="text-rose-600">
          {q.error?.message ?? 'Volume not found.'}
        </p>
        <Link href="/project/volumes" className="text-sm text-sky-600">
          Back to Volumes
        </Link>
      </div>
    );
  const serverName = (sid: string) => servers.data?.items.find((s) => s.id === sid)?.name ?? sid;
  const menu = volumeMenu(v, can);
  const transfer = transfers.data?.find((t) => t.volumeId === v.id);
  return (
    <>
      <nav className="mb-2 text-sm text-slate-500">
        <Link href="/project/volumes" className="hover:text-sky-600">
          Volumes
        </Link>{' '}
        / {volumeLabel(v)}
      </nav>
      <div className="mb-6 flex flex-col gap-4 sm:flex-row sm:items-start sm:justify-between">
        <div>
          <h1 className="flex items-center gap-3 text-2xl font-semibold tracking-tight">
            {v.name || 'Unnamed volume'} <StorageStatus status={v.status} />
          </h1>
          <p className="mt-1 font-mono text-xs text-slate-500">{v.id}</p>
        </div>
        <div className="flex flex-wrap gap-2" role="toolbar" aria-label="Volume actions">
          {menu.map((a) => (
            <Button key={a.id} variant={a.danger ? 'danger' : 'secondary'} onClick={() => open(a.id, v)}>
              {a.label}
            </Button>
          ))}
        </div>
      </div>
      {v.errorMessage &&
        (v.status.startsWith('error') ? (
          <p
            role="alert"
            data-testid="volume-fault"
            className="mb-6 rounded-lg bg-rose-50 px-4 py-3 text-sm text-rose-700 dark:bg-rose-500/10 dark:text-rose-300"
          >
            {v.errorMessage}
          </p>
        ) : (
          // A failed attach/detach rolls the volume back to its status and keeps the reason.
          <p
            data-testid="volume-last-error"
            className="mb-6 rounded-lg bg-amber-50 px-4 py-3 text-sm text-amber-800 dark:bg-amber-500/10 dark:text-amber-300"
          >
            Last failed operation: {v.errorMessage}
          </p>
        ))}
      <div className="grid gap-6 lg:grid-cols-2">
        <Card title="Volume">
          <dl className="divide-y divide-slate-100 dark:divide-slate-800">
            <Prop label="Size">
              <span data-testid="volume-size">{v.size} GiB</span>
            </Prop>
            <Prop label="Type">
              <Badge>{v.volumeTypeName}</Badge>
            </Prop>
            <Prop label="Availability zone">{v.availabilityZone}</Prop>
            <Prop label="Bootable">{v.bootable ? 'Yes' : 'No'}</Prop>
            <Prop label="Multiattach">{v.multiattach ? 'Yes' : 'No'}</Prop>
            <Prop label="Attach status">{v.attachStatus}</Prop>
            <Prop label="Source">
              {v.imageId ? (
                <Link href={`/project/images/${v.imageId}`} className="text-sky-600">
                  Image {v.imageMetadata.image_name || v.imageId.slice(0, 8)}
                </Link>
              ) : v.snapshotId ? (
                <Link href="/project/volume-snapshots" className="text-sky-600">
                  Snapshot {v.snapshotId.slice(0, 8)}
                </Link>
              ) : v.sourceVolId ? (
                <Link href={`/project/volumes/${v.sourceVolId}`} className="text-sky-600">
                  Volume {v.sourceVolId.slice(0, 8)}
                </Link>
              ) : v.backupId ? (
                <Link href="/project/volume-backups" className="text-sky-600">
                  Backup {v.backupId.slice(0, 8)}
                </Link>
              ) : (
                'Empty volume'
              )}
            </Prop>
            <Prop label="Description">{v.description}</Prop>
            <Prop label="Created">{when(v.createdAt)}</Prop>
            <Prop label="Updated">{when(v.updatedAt)}</Prop>
          </dl>
        </Card>
        <div className="space-y-6">
          <Card title="Attachments">
            {v.attachments.length === 0 ? (
              <p className="text-sm text-slate-500">Not attached to any instance.</p>
            ) : (
              <ul className="divide-y divide-slate-100 text-sm dark:divide-slate-800" data-testid="volume-attachments">
                {v.attachments.map((a) => (
                  <li key={a.id} className="flex items-center justify-between gap-3 py-2">
                    <span>
                      <Link href={`/project/instances/${a.serverId}`} className="font-medium hover:text-sky-600">
                        {serverName(a.serverId)}
                      </Link>{' '}
                      on <code data-testid="attachment-device">{a.device ?? '—'}</code>
                      {a.attachedAt && <span className="ml-2 text-xs text-slate-500">since {when(a.attachedAt)}</span>}
                    </span>
                  </li>
                ))}
              </ul>
            )}
          </Card>
          {v.status === 'awaiting-transfer' && (
            <PendingTransfer transfer={transfer} canCancel={can['volume:delete_transfer']} />
          )}
          <MetadataCard
            volumeId={v.id}
            metadata={v.metadata}
            editable={can['volume:update'] && v.status !== 'deleting'}
          />
        </div>
      </div>
      <div className="mt-6 grid gap-6 lg:grid-cols-2">
        <Card title="Snapshots">
          {snapshots.data?.items.length ? (
            <ul className="divide-y divide-slate-100 text-sm dark:divide-slate-800" data-testid="volume-snapshots">
              {snapshots.data.items.map((s) => (
                <li
                  key={s.id}
                  data-testid="snapshot-row"
                  data-name={s.name ?? ''}
                  className="flex items-center justify-between gap-3 py-2"
                >
                  <span className="min-w-0">
                    <span className="font-medium">{volumeLabel(s)}</span>{' '}
                    <span className="text-xs text-slate-500">{s.size} GiB</span>
                  </span>
                  <span className="flex items-center gap-2">
                    <StorageStatus status={s.status} kind="snapshot" progress={s.progress} />
                    {s.status === 'available' && can['volume:create'] && (
                      <Button onClick={() => setPreset({ source: 'snapshot', sourceId: s.id })}>New volume</Button>
                    )}
                    {can['volume:delete_snapshot'] && ['available', 'error'].includes(s.status) && (
                      <Button variant="ghost" onClick={() => setDeletingSnap(s)}>
                        Delete
                      </Button>
                    )}
                  </span>
                </li>
              ))}
            </ul>
          ) : (
            <p className="text-sm text-slate-500">
              {snapshots.isLoading ? 'Loading…' : 'No snapshots of this volume.'}
            </p>
          )}
        </Card>
        <Card title="Backups">
          {backups.data?.items.length ? (
            <ul className="divide-y divide-slate-100 text-sm dark:divide-slate-800">
              {backups.data.items.map((b) => (
                <li key={b.id} data-testid="backup-row" className="flex items-center justify-between gap-3 py-2">
                  <span className="min-w-0">
                    <span className="font-medium">{volumeLabel(b)}</span>{' '}
                    <span className="text-xs text-slate-500">{b.isIncremental ? 'incremental' : 'full'}</span>{' '}
                    <BackupLocation backup={b} />
                  </span>
                  <StorageStatus status={b.status} kind="backup" progress={b.progress} />
                </li>
              ))}
            </ul>
          ) : (
            <p className="text-sm text-slate-500">{backups.isLoading ? 'Loading…' : 'No backups of this volume.'}</p>
          )}
          <p className="mt-3 text-xs text-slate-500">
            Restore and delete backups in{' '}
            <Link href="/project/volume-backups" className="text-sky-600">
              Backups
            </Link>
            .
          </p>
        </Card>
      </div>
      {dialog}
      <CreateVolumeDialog open={preset !== null} preset={preset ?? undefined} onClose={() => setPreset(null)} />
      <DeleteSnapshotDialog snapshot={deletingSnap} onClose={() => setDeletingSnap(null)} />
    </>
  );
}

function PendingTransfer({
  transfer,
  canCancel,
}: {
  transfer: { id: string; name: string | null; createdAt: string } | undefined;
  canCancel: boolean;
}) {
  const trpc = useTRPC();
  const toast = useToast();
  const invalidate = useInvalidate();
  const cancel = useMutation(trpc.volume.transfers.delete.mutationOptions());
  return (
    <Card title="Pending transfer">
      {transfer ? (
        <div className="flex items-center justify-between gap-3 text-sm">
          <span>
            {transfer.name ?? 'Transfer'} <code className="text-xs">{transfer.id}</code>
            <span className="block text-xs text-slate-500">Waiting for another project to accept it.</span>
          </span>
          {canCancel && (
            <Button
              busy={cancel.isPending}
              onClick={() =>
                void cancel.mutateAsync({ transferId: transfer.id }).then(
                  async () => {
                    toast.success('Transfer cancelled');
                    await invalidate(trpc.volume.pathKey());
                  },
                  () => {},
                )
              }
            >
              Cancel transfer
            </Button>
          )}
        </div>
      ) : (
        <p className="text-sm text-slate-500">Waiting for another project to accept it.</p>
      )}
    </Card>
  );
}

const toLines = (m: Record<string, string>) =>
  Object.entries(m)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
function parseLines(text: string): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line) continue;
    const at = line.indexOf('=');
    if (at <= 0) return `Line ${i + 1}: write metadata as key=value.`;
    out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

function MetadataCard({
  volumeId,
  metadata,
  editable,
}: {
  volumeId: string;
  metadata: Record<string, string>;
  editable: boolean;
}) {
  const trpc = useTRPC();
  const toast = useToast();
  const invalidate = useInvalidate();
  const save = useMutation(trpc.volume.volumes.setMetadata.mutationOptions(QUIET));
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!editing) setText(toLines(metadata));
  }, [metadata, editing]);
  const submit = async () => {
    const parsed = parseLines(text);
    if (typeof parsed === 'string') return setError(parsed);
    try {
      await save.mutateAsync({ volumeId, metadata: parsed });
      await invalidate(trpc.volume.pathKey());
      toast.success('Metadata saved');
      setEditing(false);
      setError(null);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const entries = Object.entries(metadata);
  return (
    <Card
      title="Metadata"
      action={
        editable && !editing ? (
          <Button variant="ghost" onClick={() => setEditing(true)}>
            Edit
          </Button>
        ) : undefined
      }
    >
      {editing ? (
        <div className="space-y-3">
          <FormError message={error} />
          <Textarea
            aria-label="Metadata, one key=value a line"
            rows={5}
            className="font-mono text-xs"
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
          <div className="flex justify-end gap-2">
            <Button
              onClick={() => {
                setEditing(false);
                setError(null);
              }}
            >
              Cancel
            </Button>
            <Button variant="primary" busy={save.isPending} onClick={() => void submit()}>
              Save metadata
            </Button>
          </div>
        </div>
      ) : entries.length === 0 ? (
        <p className="text-sm text-slate-500">No metadata.</p>
      ) : (
        <dl className="divide-y divide-slate-100 dark:divide-slate-800">
          {entries.map(([k, val]) => (
            <Prop key={k} label={k}>
              <code className="text-xs">{val}</code>
            </Prop>
          ))}
        </dl>
      )}
    </Card>
  );
}
