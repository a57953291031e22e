'use client';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useEffect, useState } from 'react';
import { age, useNow } from '@/components/compute/status';
import { DataTable } from '@/components/data-table';
import { Icon } from '@/components/icons';
import { Input, PageHeader, Select } from '@/components/ui';
import { CreateVolumeDialog, type CreateVolumePreset } from '@/components/volume/create';
import { DeleteSnapshotDialog } from '@/components/volume/snapshot-dialogs';
import { type SnapshotRow, StorageStatus, volumeLabel } from '@/components/volume/status';
import { useCan } from '@/lib/can';
import { useMarkerPaging } from '@/lib/paging';
import { PAGE_SIZE } from '@/lib/resource';
import { useTRPC } from '@/lib/trpc';

const STATUSES = ['creating', 'available', 'deleting', 'error', 'error_deleting'];

/** Volume snapshots of the project; `snapshot.*` events keep the rows live (lib/live.ts). */
export function SnapshotsPanel() {
  const trpc = useTRPC();
  const now = useNow();
  const paging = useMarkerPaging();
  const can = useCan(['volume:create', 'volume:delete_snapshot']);
  const [text, setText] = useState('');
  const [name, setName] = useState('');
  const [status, setStatus] = useState('');
  const [preset, setPreset] = useState<CreateVolumePreset | null>(null);
  const [deleting, setDeleting] = useState<SnapshotRow | null>(null);
  useEffect(() => {
    const t = setTimeout(() => {
      if (text.trim() !== name) {
        setName(text.trim());
        paging.reset();
      }
    }, 300);
    return () => clearTimeout(t);
  }, [text, name, paging]);
  const query = useQuery({
    ...trpc.volume.snapshots.list.queryOptions({
      name: name || undefined,
      status: status || undefined,
      marker: paging.marker,
      limit: PAGE_SIZE,
    }),
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
        title="Volume snapshots"
        description="Point-in-time copies of volumes. Create snapshots from a volume's menu; make new volumes from them here."
      />
      <div className="mb-3 flex flex-wrap items-center gap-2">
        <div className="relative w-full max-w-xs">
          <span className="pointer-events-none absolute inset-y-0 left-2.5 flex items-center text-slate-400">
            <Icon name="search" className="size-4" />
          </span>
          <Input
            type="search"
            aria-label="Filter by name"
            placeholder="Filter by name (exact)"
            value={text}
            onChange={(e) => setText(e.target.value)}
            className="pl-8"
          />
        </div>
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
      <DataTable<SnapshotRow>
        label="Volume snapshots"
        rows={query.data?.items}
        rowKey={(r) => r.id}
        loading={query.isLoading}
        error={query.error}
        empty={name || status ? 'No snapshot matches these filters.' : 'No snapshots yet.'}
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
