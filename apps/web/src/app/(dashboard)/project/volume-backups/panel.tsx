'use client';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { age, formatBytes, useNow } from '@/components/compute/status';
import { DataTable } from '@/components/data-table';
import { PageHeader, Select } from '@/components/ui';
import { RestoreBackupDialog } from '@/components/volume/dialogs';
import { DeleteBackupDialog } from '@/components/volume/snapshot-dialogs';
import { type BackupRow, StorageStatus, volumeLabel } from '@/components/volume/status';
import { useCan } from '@/lib/can';
import { useMarkerPaging } from '@/lib/paging';
import { PAGE_SIZE } from '@/lib/resource';
import { useTRPC } from '@/lib/trpc';

const STATUSES = ['creating', 'available', 'restoring', 'deleting', 'error', 'error_deleting'];

/**
 * Volume backups with their progress: the worker reports it on the backup while data
 * moves, each step a `backup.updated` event that refreshes this list (lib/live.ts).
 */
export function BackupsPanel() {
  const trpc = useTRPC();
  const now = useNow();
  const paging = useMarkerPaging();
  const can = useCan(['backup:restore', 'backup:delete']);
  const [status, setStatus] = useState('');
  const [restoring, setRestoring] = useState<BackupRow | null>(null);
  const [deleting, setDeleting] = useState<BackupRow | null>(null);
  const query = useQuery({
    ...trpc.volume.backups.list.queryOptions({ status: status || undefined, marker: paging.marker, limit: PAGE_SIZE }),
    placeholderData: keepPreviousData,
  });
  const volumes = useQuery(trpc.volume.volumes.list.queryOptions({ limit: 200 }));
  const volumeName = (id: string) => {
    const v = volumes.data?.items.find((x) => x.id === id);
    return v ? volumeLabel(v) : id.slice(0, 8);
  };
  return (
    <>
      <PageHeader
        title="Volume backups"
        description="Full and incremental copies of volumes, kept apart from them. Back up from a volume's menu; restore here."
      />
      <div className="mb-3 flex flex-wrap items-center gap-2">
        <Select
          aria-label="Filter by status"
          className="max-w-44"
          value={status}
          onChange={(e) => {
            setStatus(e.target.value);
            paging.reset();
          }}
        >
          <option value="">Any status</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </Select>
      </div>
      <DataTable<BackupRow>
        label="Volume backups"
        rows={query.data?.items}
        rowKey={(r) => r.id}
        loading={query.isLoading}
        error={query.error}
        empty={status ? 'No backup matches this filter.' : 'No backups yet.'}
        paging={{
          page: paging.page,
          hasPrevious: paging.hasPrevious,
          hasNext: Boolean(query.data?.next),
          onPrevious: paging.previous,
          onNext: () => query.data?.next && paging.next(query.data.next),
        }}
        columns={[
          {
            header: 'Name',
            cell: (b) => (
              <div data-testid="backup-row" data-name={b.name ?? ''}>
                <span className="font-medium">{b.name || <code className="text-xs">{b.id}</code>}</span>
                {b.status.startsWith('error') && b.failReason && (
                  <p className="mt-1 text-xs text-rose-600 dark:text-rose-400">{b.failReason}</p>
                )}
              </div>
            ),
          },
          { header: 'Size', cell: (b) => `${b.size} GiB`, className: 'tabular-nums whitespace-nowrap' },
          { header: 'Status', cell: (b) => <StorageStatus status={b.status} kind="backup" progress={b.progress} /> },
          { header: 'Kind', cell: (b) => (b.isIncremental ? 'incremental' : 'full') },
          {
            header: 'Volume',
            cell: (b) => (
              <Link href={`/project/volumes/${b.volumeId}`} className="hover:text-sky-600">
                {volumeName(b.volumeId)}
              </Link>
            ),
          },
          {
            header: 'Stored',
            cell: (b) => formatBytes(b.storedBytes),
            className: 'hidden lg:table-cell tabular-nums text-slate-500',
          },
          {
            header: 'Age',
            cell: (b) => <span title={b.createdAt}>{age(b.createdAt, now)}</span>,
            className: 'hidden md:table-cell whitespace-nowrap text-slate-500',
          },
        ]}
        actions={[
          {
            label: 'Restore backup',
            onSelect: setRestoring,
            hidden: (b) => b.status !== 'available' || !can['backup:restore'],
          },
          {
            label: 'Delete backup',
            danger: true,
            onSelect: setDeleting,
            hidden: (b) =>
              !['available', 'error', 'error_deleting'].includes(b.status) ||
              b.hasDependentBackups ||
              !can['backup:delete'],
          },
        ]}
      />
      <RestoreBackupDialog backup={restoring} onClose={() => setRestoring(null)} />
      <DeleteBackupDialog backup={deleting} onClose={() => setDeleting(null)} />
    </>
  );
}
