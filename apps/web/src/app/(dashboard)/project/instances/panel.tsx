'use client';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useEffect, useState } from 'react';
import { allows, SERVER_ACTIONS, type ServerRow, useServerActions } from '@/components/compute/actions';
import { LaunchWizard } from '@/components/compute/launch-wizard';
import {
  SERVER_STATUSES,
  serverActions,
  serverActionsLabel,
  serverColumns,
  serverRowProps,
} from '@/components/compute/server-list';
import { PowerState, useNow } from '@/components/compute/status';
import { DataTable, FilterSelect, Refreshing, useListFilters } from '@/components/data-table';
import { Icon } from '@/components/icons';
import { Button, PageHeader } from '@/components/ui';
import { AttachDialog, attachableServer } from '@/components/volume/dialogs';
import { useCan } from '@/lib/can';
import { useTRPC } from '@/lib/trpc';

/**
 * Instances: one query per page (servers with their IPs), filters on the server, and
 * live rows: socket.io `server.*` events invalidate this query (lib/live.ts), so a
 * BUILD row turns ACTIVE without polling or reload.
 */
export function InstancesPanel() {
  const trpc = useTRPC();
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const now = useNow();
  const list = useListFilters({ status: '' });
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [launch, setLaunch] = useState<{ imageId?: string } | null>(null);
  const [attachTo, setAttachTo] = useState<ServerRow | null>(null);
  const can = useCan(['os_compute_api:os-volumes-attachments:create']);

  // "Launch" from an image arrives as ?launch=<image id>.
  const launchParam = params.get('launch');
  useEffect(() => {
    if (launchParam === null) return;
    setLaunch({ imageId: launchParam || undefined });
    router.replace(pathname);
  }, [launchParam, router, pathname]);

  const query = useQuery({
    ...trpc.compute.servers.list.queryOptions({ ...list.input, status: list.values.status || undefined }),
    ...list.keep,
  });
  const rows = query.data?.items;
  const imageIds = [...new Set(rows?.map((r) => r.imageId) ?? [])].sort();
  const images = useQuery({
    ...trpc.image.images.list.queryOptions({ ids: imageIds, limit: 100 }),
    enabled: imageIds.length > 0,
    placeholderData: keepPreviousData,
  });
  const imageName = (id: string) => images.data?.items.find((i) => i.id === id)?.name ?? id.slice(0, 8);
  const { run, dialog } = useServerActions();
  const col = serverColumns<ServerRow>(now);
  const rowActions = serverActions<ServerRow>(SERVER_ACTIONS, (a, r) => void run(a, [r]));

  // Selection follows the rows that still exist.
  const chosen = rows?.filter((r) => selected.has(r.id)) ?? [];

  return (
    <>
      <PageHeader
        title="Instances"
        description="Servers of this project. Status changes arrive live."
        actions={
          <Button variant="primary" onClick={() => setLaunch({})}>
            <Icon name="plus" className="size-4" /> Launch instance
          </Button>
        }
      />
      <DataTable<ServerRow>
        label="Instances"
        rows={rows}
        rowKey={(r) => r.id}
        rowProps={serverRowProps('server-row')}
        align="top"
        loading={query.isLoading}
        error={query.error}
        selection={{ selected, onChange: setSelected, label: (r) => r.name }}
        filter={{ ...list.filter, placeholder: 'Filter by name' }}
        toolbar={
          <>
            <FilterSelect
              label="Filter by status"
              any="Any status"
              options={SERVER_STATUSES}
              value={list.values.status}
              onChange={(v) => list.set('status', v)}
            />
            <Refreshing query={query} />
            {chosen.length > 0 && (
              <div className="ml-auto flex items-center gap-2" role="toolbar" aria-label="Selected instances">
                <span className="text-sm text-slate-500">{chosen.length} selected</span>
                {SERVER_ACTIONS.filter((a) => a.bulk).map((a) => {
                  const n = chosen.filter((r) => allows(a, r)).length;
                  return (
                    <Button
                      key={a.id}
                      variant={a.danger ? 'danger' : 'secondary'}
                      disabled={n === 0}
                      title={n === 0 ? `None of the selected instances can ${a.label.toLowerCase()} now` : undefined}
                      onClick={() => void run(a, chosen)}
                    >
                      {a.label}
                      {n > 0 && n < chosen.length ? ` (${n})` : ''}
                    </Button>
                  );
                })}
              </div>
            )}
          </>
        }
        empty={
          list.filtered ? (
            'No instance matches these filters.'
          ) : (
            <div className="space-y-3">
              <p>No instances yet.</p>
              <Button variant="primary" onClick={() => setLaunch({})}>
                <Icon name="plus" className="size-4" /> Launch your first instance
              </Button>
            </div>
          )
        }
        paging={list.pager(query.data?.next)}
        columns={[
          col.name,
          col.status,
          {
            header: 'Power',
            className: 'hidden whitespace-nowrap xl:table-cell',
            cell: (r) => <PowerState value={r.powerState} />,
          },
          col.task,
          col.addresses,
          col.flavor,
          {
            header: 'Image',
            className: 'hidden max-w-40 truncate xl:table-cell',
            cell: (r) => imageName(r.imageId),
          },
          col.age,
        ]}
        actions={[
          ...rowActions.slice(0, 1),
          // Horizon's "Attach Volume" on the row: the instance is fixed, a volume is chosen.
          {
            label: 'Attach volume',
            hidden: (r) => !can['os_compute_api:os-volumes-attachments:create'] || !attachableServer(r),
            onSelect: setAttachTo,
          },
          ...rowActions.slice(1),
        ]}
        actionsLabel={serverActionsLabel}
      />
      <LaunchWizard open={launch !== null} imageId={launch?.imageId} onClose={() => setLaunch(null)} />
      <AttachDialog server={attachTo} onClose={() => setAttachTo(null)} />
      {dialog}
    </>
  );
}
