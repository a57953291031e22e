'use client';
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { age, formatBytes, useNow } from '@/components/compute/status';
import { DataTable, FilterSelect, useListFilters } from '@/components/data-table';
import { PageHeader } from '@/components/ui';
import { RestoreBackupDialog } from '@/components/volume/dialogs';
import { DeleteBackupDialog } from '@/components/volume/snapshot-dialogs';
import { BackupLocation, type BackupRow, StorageStatus, useVolumeNames } from '@/components/volume/status';
import { useCan } from '@/lib/can';
import { useTRPC } from '@/lib/trpc';

const STATUSES = ['creating', 'available', 'restoring', 'deleting', 'error', 'error_deleting'];

/**
 * Volume backups with their progress: the worker reports it on the backup while data
 * moves, each step a `backup.updated` event that refreshes this list (lib/live.ts).
 */
export function BackupsPanel() {
  const trpc = useTRPC();
  const now = useNow();
  const list = useListFilters({ status: '' });
  const can = useCan(['backup:restore', 'backup:delete']);
  const [restoring, setRestoring] = useState<BackupRow | null>(null);
  const [deleting, setDeleting] = useState<BackupRow | null>(null);
  // Backups have no name filter: only the status and the page go to the server.
  const query = useQuery({
    ...trpc.volume.backups.list.queryOptions({
      status: list.values.status || undefined,
      marker: list.input.marker,
      limit: list.input.limit,
    }),
    ...list.keep,
  });
  const volumeName = useVolumeNames();
  return (
    <>
      <PageHeader
        title="Volume backups"
        description="Full and incremental copies of volumes, kept apart from them. Back up from a volume's menu; restore here."
      />
      <DataTable<BackupRow>
        label="Volume backups"
        rows={query.data?.items}
        rowKey={(r) => r.id}
        loading={query.isLoading}
        error={query.error}
        toolbar={
          <FilterSelect
            label="Filter by status"
            any="Any status"
            options={STATUSES}
            value={list.values.status}
            onChange={(v) => list.set('status', v)}
          />
        }
        empty={list.filtered ? 'No backup matches this filter.' : 'No backups yet.'}
        paging={list.pager(query.data?.next)}
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
            header: 'Location',
            cell: (b) => <BackupLocation backup={b} />,
            className: 'whitespace-nowrap',
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
