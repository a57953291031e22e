'use client';
import { VOLUME_STATUSES } from '@stratus/core/volume/state';
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { age, useNow } from '@/components/compute/status';
import { DataTable, FilterSelect, Refreshing, useListFilters } from '@/components/data-table';
import { Icon } from '@/components/icons';
import { CreateVolumeDialog } from '@/components/volume/create';
import { AcceptTransferDialog, useVolumeActions, VOLUME_ACTIONS, VOLUME_POLICIES } from '@/components/volume/dialogs';
import { StorageStatus, type VolumeRow } from '@/components/volume/status';
import { Badge, Button, PageHeader } from '@/components/ui';
import { useCan } from '@/lib/can';
import { useTRPC } from '@/lib/trpc';

/**
 * Volumes: one query per page, filters on the server, and live rows: socket.io
 * `volume.*` events invalidate this query (lib/live.ts), so a creating volume turns
 * available, and an attaching one in-use, without polling or reload.
 */
export function VolumesPanel() {
  const trpc = useTRPC();
  const now = useNow();
  const list = useListFilters({ status: '' });
  const can = useCan(VOLUME_POLICIES);
  const [creating, setCreating] = useState(false);
  const [accepting, setAccepting] = useState(false);
  const { open, dialog } = useVolumeActions();
  const query = useQuery({
    ...trpc.volume.volumes.list.queryOptions({ ...list.input, status: list.values.status || undefined }),
    ...list.keep,
  });
  const rows = query.data?.items;
  const attached = rows?.some((r) => r.attachments.length > 0) ?? false;
  const servers = useQuery({ ...trpc.compute.servers.list.queryOptions({ limit: 200 }), enabled: attached });
  const serverName = (id: string) => servers.data?.items.find((s) => s.id === id)?.name ?? id.slice(0, 8);

  return (
    <>
      <PageHeader
        title="Volumes"
        description="Persistent block storage for your instances. Status changes arrive live."
        actions={
          <>
            {can['volume:accept_transfer'] && <Button onClick={() => setAccepting(true)}>Accept transfer</Button>}
            {can['volume:create'] && (
              <Button variant="primary" onClick={() => setCreating(true)}>
                <Icon name="plus" className="size-4" /> Create volume
              </Button>
            )}
          </>
        }
      />
      <DataTable<VolumeRow>
        label="Volumes"
        rows={rows}
        rowKey={(r) => r.id}
        loading={query.isLoading}
        error={query.error}
        filter={{ ...list.filter, label: 'Filter by name', placeholder: 'Filter by name (exact)' }}
        toolbar={
          <>
            <FilterSelect
              label="Filter by status"
              any="Any status"
              options={VOLUME_STATUSES}
              className="max-w-48"
              value={list.values.status}
              onChange={(v) => list.set('status', v)}
            />
            <Refreshing query={query} />
          </>
        }
        empty={
          list.filtered
            ? 'No volume matches these filters.'
            : 'No volumes yet. Create one to keep data beyond an instance.'
        }
        paging={list.pager(query.data?.next)}
        columns={[
          {
            header: 'Name',
            cell: (v) => (
              <div data-testid="volume-row" data-volume-id={v.id} data-name={v.name ?? ''}>
                <Link href={`/project/volumes/${v.id}`} className="font-medium hover:text-sky-600">
                  {v.name || <code className="text-xs">{v.id}</code>}
                </Link>
                {v.bootable && <span className="ml-1.5 text-xs text-sky-600">bootable</span>}
                {v.status.startsWith('error') && v.errorMessage && (
                  <p
                    data-testid="volume-fault"
                    className="mt-1 max-w-sm text-xs break-words text-rose-600 dark:text-rose-400"
                  >
                    {v.errorMessage}
                  </p>
                )}
              </div>
            ),
          },
          {
            header: 'Size',
            cell: (v) => <span data-testid="volume-size">{v.size} GiB</span>,
            className: 'tabular-nums whitespace-nowrap',
          },
          { header: 'Status', cell: (v) => <StorageStatus status={v.status} /> },
          {
            header: 'Attached to',
            cell: (v) =>
              v.attachments.length ? (
                <ul className="space-y-0.5" data-testid="volume-attachments">
                  {v.attachments.map((a) => (
                    <li key={a.id} className="whitespace-nowrap">
                      <Link href={`/project/instances/${a.serverId}`} className="hover:text-sky-600">
                        {serverName(a.serverId)}
                      </Link>{' '}
                      on <code className="text-xs">{a.device ?? '—'}</code>
                    </li>
                  ))}
                </ul>
              ) : (
                <span className="text-slate-400">—</span>
              ),
          },
          {
            header: 'Type',
            cell: (v) => <Badge>{v.volumeTypeName}</Badge>,
            className: 'hidden md:table-cell',
          },
          { header: 'Zone', cell: (v) => v.availabilityZone, className: 'hidden lg:table-cell text-slate-500' },
          {
            header: 'Age',
            cell: (v) => <span title={v.createdAt}>{age(v.createdAt, now)}</span>,
            className: 'hidden md:table-cell whitespace-nowrap text-slate-500',
          },
        ]}
        actions={VOLUME_ACTIONS.map((a) => ({
          label: a.label,
          danger: a.danger,
          hidden: (v: VolumeRow) => !a.allows(v, can),
          onSelect: (v: VolumeRow) => open(a.id, v),
        }))}
      />
      <CreateVolumeDialog open={creating} onClose={() => setCreating(false)} />
      <AcceptTransferDialog open={accepting} onClose={() => setAccepting(false)} />
      {dialog}
    </>
  );
}
