'use client';
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { age, useNow } from '@/components/compute/status';
import { DataTable, FilterSelect, useListFilters } from '@/components/data-table';
import { PageHeader } from '@/components/ui';
import { CreateVolumeDialog, type CreateVolumePreset } from '@/components/volume/create';
import { DeleteSnapshotDialog } from '@/components/volume/snapshot-dialogs';
import { type SnapshotRow, StorageStatus, useVolumeNames } from '@/components/volume/status';
import { useCan } from '@/lib/can';
import { useTRPC } from '@/lib/trpc';

const STATUSES = ['creating', 'available', 'deleting', 'error', 'error_deleting'];

/** Volume snapshots of the project; `snapshot.*` events keep the rows live (lib/live.ts). */
export function SnapshotsPanel() {
  const trpc = useTRPC();
  const now = useNow();
  const list = useListFilters({ status: '' });
  const can = useCan(['volume:create', 'volume:delete_snapshot']);
  const [preset, setPreset] = useState<CreateVolumePreset | null>(null);
  const [deleting, setDeleting] = useState<SnapshotRow | null>(null);
  const query = useQuery({
    ...trpc.volume.snapshots.list.queryOptions({ ...list.input, status: list.values.status || undefined }),
    ...list.keep,
  });
  const volumeName = useVolumeNames();
  return (
    <>
      <PageHeader
        title="Volume snapshots"
        description="Point-in-time copies of volumes. Create snapshots from a volume's menu; make new volumes from them here."
      />
      <DataTable<SnapshotRow>
        label="Volume snapshots"
        rows={query.data?.items}
        rowKey={(r) => r.id}
        loading={query.isLoading}
        error={query.error}
        filter={{ ...list.filter, label: 'Filter by name', placeholder: 'Filter by name (exact)' }}
        toolbar={
          <FilterSelect
            label="Filter by status"
            any="Any status"
            options={STATUSES}
            value={list.values.status}
            onChange={(v) => list.set('status', v)}
          />
        }
        empty={list.filtered ? 'No snapshot matches these filters.' : 'No snapshots yet.'}
        paging={list.pager(query.data?.next)}
        columns={[
          {
            header: 'Name',
            cell: (s) => (
              <div data-testid="snapshot-row" data-name={s.name ?? ''}>
                <span className="font-medium">{s.name || <code className="text-xs">{s.id}</code>}</span>
                {s.description && <p className="text-xs text-slate-500">{s.description}</p>}
                {s.status.startsWith('error') && s.errorMessage && (
                  <p className="mt-1 text-xs text-rose-600 dark:text-rose-400">{s.errorMessage}</p>
                )}
              </div>
            ),
          },
          { header: 'Size', cell: (s) => `${s.size} GiB`, className: 'tabular-nums whitespace-nowrap' },
          { header: 'Status', cell: (s) => <StorageStatus status={s.status} kind="snapshot" progress={s.progress} /> },
          {
            header: 'Volume',
            cell: (s) => (
              <Link href={`/project/volumes/${s.volumeId}`} className="hover:text-sky-600">
                {volumeName(s.volumeId)}
              </Link>
            ),
          },
          {
            header: 'Age',
            cell: (s) => <span title={s.createdAt}>{age(s.createdAt, now)}</span>,
            className: 'hidden md:table-cell whitespace-nowrap text-slate-500',
          },
        ]}
        actions={[
          {
            label: 'Create volume',
            onSelect: (s) => setPreset({ source: 'snapshot', sourceId: s.id }),
            hidden: (s) => s.status !== 'available' || !can['volume:create'],
          },
          {
            label: 'Delete snapshot',
            danger: true,
            onSelect: setDeleting,
            hidden: (s) =>
              !['available', 'error', 'error_deleting'].includes(s.status) || !can['volume:delete_snapshot'],
          },
        ]}
      />
      <CreateVolumeDialog open={preset !== null} preset={preset ?? undefined} onClose={() => setPreset(null)} />
      <DeleteSnapshotDialog snapshot={deleting} onClose={() => setDeleting(null)} />
    </>
  );
}
