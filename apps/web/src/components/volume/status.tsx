'use client';
import { useQuery } from '@tanstack/react-query';
import type { inferRouterOutputs } from '@trpc/server';
import Link from 'next/link';
import { useTRPC } from '@/lib/trpc';
import type { AppRouter } from '@/server/routers';
import { containerHref } from '../objectstore/paths';
import { Badge, Spinner } from '../ui';

/* How volumes, snapshots and backups read in lists and on their pages: one place, so all agree. */

type Out = inferRouterOutputs<AppRouter>['volume'];
export type VolumeRow = Out['volumes']['list']['items'][number];
export type SnapshotRow = Out['snapshots']['list']['items'][number];
export type BackupRow = Out['backups']['list']['items'][number];

/** Statuses during which a job is working on the resource: shown with a spinner. */
const BUSY = new Set([
  'creating',
  'attaching',
  'detaching',
  'deleting',
  'extending',
  'retyping',
  'backing-up',
  'restoring-backup',
  'restoring',
]);

export function toneOf(status: string): 'green' | 'red' | 'amber' | 'sky' | 'slate' {
  if (status === 'available') return 'green';
  if (status === 'in-use') return 'sky';
  if (status.startsWith('error')) return 'red';
  if (BUSY.has(status)) return 'sky';
  return 'amber';
}

/** A status badge; `kind` names the test id (volume-status, snapshot-status, backup-status). */
export function StorageStatus({
  status,
  kind = 'volume',
  progress,
}: {
  status: string;
  kind?: 'volume' | 'snapshot' | 'backup';
  progress?: number;
}) {
  const tone = toneOf(status);
  const busy = BUSY.has(status);
  return (
    <span data-testid={`${kind}-status`} data-status={status} className="inline-flex items-center gap-2">
      <Badge tone={tone}>
        <span className="inline-flex items-center gap-1.5">
          {busy ? (
            <Spinner className="size-3" />
          ) : (
            <span
              aria-hidden="true"
              className={`size-1.5 rounded-full ${tone === 'green' ? 'bg-emerald-500' : tone === 'red' ? 'bg-rose-500' : tone === 'sky' ? 'bg-sky-500' : tone === 'amber' ? 'bg-amber-500' : 'bg-slate-400'}`}
            />
          )}
          {status}
        </span>
      </Badge>
      {busy && progress !== undefined && progress < 100 && <Progress value={progress} />}
    </span>
  );
}

/** A small progress bar with its percentage (backups and snapshots report it while data moves). */
export function Progress({ value }: { value: number }) {
  const v = Math.max(0, Math.min(100, Math.round(value)));
  return (
    <span className="inline-flex items-center gap-1.5" data-testid="progress" data-value={v}>
      <span
        role="progressbar"
        aria-valuenow={v}
        aria-valuemin={0}
        aria-valuemax={100}
        className="h-1.5 w-20 overflow-hidden rounded-full bg-slate-200 dark:bg-slate-700"
      >
        <span
          className="block h-full rounded-full bg-sky-500 transition-[width] duration-500"
          style={{ width: `${v}%` }}
        />
      </span>
      <span className="text-xs text-slate-500 tabular-nums">{v}%</span>
    </span>
  );
}

export const volumeLabel = (v: { name: string | null; id: string }) => v.name || v.id.slice(0, 8);
export const gb = (n: number) => `${n} GiB`;

/** Volume labels by id, for the snapshot and backup lists (one page of volumes is plenty there). */
export function useVolumeNames() {
  const trpc = useTRPC();
  const volumes = useQuery(trpc.volume.volumes.list.queryOptions({ limit: 200 }));
  return (id: string) => {
    const v = volumes.data?.items.find((x) => x.id === id);
    return v ? volumeLabel(v) : id.slice(0, 8);
  };
}

/**
 * Where a backup's data lives: in the object store, the container (linked to its folder in
 * the object browser: the chunks are the owner's objects); on the filesystem target, the
 * folder on the backup's host. Decided at create and kept on the backup.
 */
export function BackupLocation({ backup: b }: { backup: Pick<BackupRow, 'id' | 'driver' | 'container'> }) {
  const container = b.container ?? 'volumebackups';
  return (
    <span data-testid="backup-location" data-driver={b.driver} data-container={container} className="text-sm">
      {b.driver === 'object' ? (
        <>
          <span className="text-slate-500">Object store · </span>
          <Link href={containerHref(container, `${b.id}/`)} className="font-mono text-xs hover:text-sky-600">
            {container}
          </Link>
        </>
      ) : (
        <>
          <span className="text-slate-500">Filesystem · </span>
          <code className="text-xs">{container}</code>
        </>
      )}
    </span>
  );
}
