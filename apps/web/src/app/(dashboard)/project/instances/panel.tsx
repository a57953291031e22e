'use client';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useEffect, useState } from 'react';
import { allows, SERVER_ACTIONS, type ServerRow, useServerActions } from '@/components/compute/actions';
import { LaunchWizard } from '@/components/compute/launch-wizard';
import { age, formatRam, PowerState, ServerStatus, taskLabel, useNow } from '@/components/compute/status';
import { Icon } from '@/components/icons';
import { Menu, MenuItem } from '@/components/menu';
import { Button, Input, PageHeader, Select, Spinner } from '@/components/ui';
import { useMarkerPaging } from '@/lib/paging';
import { PAGE_SIZE } from '@/lib/resource';
import { useTRPC } from '@/lib/trpc';

const STATUSES = ['ACTIVE', 'BUILD', 'SHUTOFF', 'ERROR', 'PAUSED', 'SUSPENDED', 'REBOOT', 'HARD_REBOOT'];

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
  const paging = useMarkerPaging();
  const [name, setName] = useState('');
  const [text, setText] = useState('');
  const [status, setStatus] = useState('');
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [launch, setLaunch] = useState<{ imageId?: string } | null>(null);

  // "Launch" from an image arrives as ?launch=<image id>.
  const launchParam = params.get('launch');
  useEffect(() => {
    if (launchParam === null) return;
    setLaunch({ imageId: launchParam || undefined });
    router.replace(pathname);
  }, [launchParam, router, pathname]);

  useEffect(() => {
    const t = setTimeout(() => {
      if (text.trim() !== name) {
        setName(text.trim());
        paging.reset();
      }
    }, 300);
    return () => clearTimeout(t);
  }, [text, name, paging]);

  const input = { name: name || undefined, status: status || undefined, marker: paging.marker, limit: PAGE_SIZE };
  const query = useQuery({ ...trpc.compute.servers.list.queryOptions(input), placeholderData: keepPreviousData });
  const rows = query.data?.items;
  const imageIds = [...new Set(rows?.map((r) => r.imageId) ?? [])].sort();
  const images = useQuery({
    ...trpc.image.images.list.queryOptions({ ids: imageIds, limit: 100 }),
    enabled: imageIds.length > 0,
    placeholderData: keepPreviousData,
  });
  const imageName = (id: string) => images.data?.items.find((i) => i.id === id)?.name ?? id.slice(0, 8);
  const { run, dialog } = useServerActions();

  // Selection follows the rows that still exist.
  const chosen = rows?.filter((r) => selected.has(r.id)) ?? [];
  const toggle = (id: string) =>
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });
  const allChosen = Boolean(rows?.length) && chosen.length === rows?.length;

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
      <div className="overflow-hidden rounded-xl border border-slate-200 bg-white shadow-xs dark:border-slate-800 dark:bg-slate-900">
        <div className="flex flex-wrap items-center gap-2 border-b border-slate-200 px-4 py-3 dark:border-slate-800">
          <div className="relative w-full max-w-xs">
            <span className="pointer-events-none absolute inset-y-0 left-2.5 flex items-center text-slate-400">
              <Icon name="search" className="size-4" />
            </span>
            <Input
              type="search"
              aria-label="Filter by name"
              placeholder="Filter by name"
              value={text}
              onChange={(e) => setText(e.target.value)}
              className="pl-8"
            />
          </div>
          <Select
            aria-label="Filter by status"
            value={status}
            onChange={(e) => {
              setStatus(e.target.value);
              paging.reset();
            }}
            className="max-w-44"
          >
            <option value="">Any status</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </Select>
          <span className="inline-flex size-4 items-center" aria-hidden="true">
            {query.isFetching && !query.isLoading && <Spinner className="size-3.5 text-slate-400" />}
          </span>
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
        </div>
        <div className="overflow-x-auto">
          <table className="min-w-full divide-y divide-slate-200 text-sm dark:divide-slate-800" aria-label="Instances">
            <thead className="bg-slate-50 dark:bg-slate-900/80">
              <tr>
                <th scope="col" className="w-10 py-2.5 pl-4">
                  <input
                    type="checkbox"
                    aria-label="Select all"
                    checked={allChosen}
                    onChange={() => setSelected(allChosen ? new Set() : new Set(rows?.map((r) => r.id)))}
                    className="size-4 rounded border-slate-300 text-sky-600"
                  />
                </th>
                {['Name', 'Status', 'Power', 'Task', 'IP addresses', 'Flavor', 'Image', 'Age'].map((h) => (
                  <th
                    key={h}
                    scope="col"
                    className={`px-4 py-2.5 text-left text-xs font-semibold uppercase tracking-wide text-slate-500 dark:text-slate-400 ${h === 'Image' || h === 'Power' ? 'hidden xl:table-cell' : ''} ${h === 'Flavor' || h === 'IP addresses' ? 'hidden lg:table-cell' : ''}`}
                  >
                    {h}
                  </th>
                ))}
                <th scope="col" className="w-12 px-4 py-2.5">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100 dark:divide-slate-800/70">
              {query.isLoading && (
                <tr>
                  <td colSpan={10} className="px-4 py-10 text-center">
                    <Spinner className="size-5 text-sky-600" />
                  </td>
                </tr>
              )}
              {query.error && (
                <tr>
                  <td colSpan={10} role="alert" className="px-4 py-6 text-center text-rose-600 dark:text-rose-400">
                    {query.error.message}
                  </td>
                </tr>
              )}
              {rows?.length === 0 && (
                <tr>
                  <td colSpan={10} className="px-4 py-12 text-center text-slate-500 dark:text-slate-400">
                    {name || status ? (
                      'No instance matches these filters.'
                    ) : (
                      <div className="space-y-3">
                        <p>No instances yet.</p>
                        <Button variant="primary" onClick={() => setLaunch({})}>
                          <Icon name="plus" className="size-4" /> Launch your first instance
                        </Button>
                      </div>
                    )}
                  </td>
                </tr>
              )}
              {rows?.map((r) => (
                <Row
                  key={r.id}
                  r={r}
                  now={now}
                  image={imageName(r.imageId)}
                  selected={selected.has(r.id)}
                  onToggle={() => toggle(r.id)}
                  onAction={(a) => void run(a, [r])}
                />
              ))}
            </tbody>
          </table>
        </div>
        {(paging.hasPrevious || query.data?.next) && (
          <nav
            aria-label="Pagination"
            className="flex items-center justify-between border-t border-slate-200 px-4 py-2.5 text-sm dark:border-slate-800"
          >
            <span className="text-slate-500 dark:text-slate-400">Page {paging.page}</span>
            <div className="flex gap-2">
              <Button onClick={paging.previous} disabled={!paging.hasPrevious}>
                Previous
              </Button>
              <Button onClick={() => query.data?.next && paging.next(query.data.next)} disabled={!query.data?.next}>
                Next
              </Button>
            </div>
          </nav>
        )}
      </div>
      <LaunchWizard open={launch !== null} imageId={launch?.imageId} onClose={() => setLaunch(null)} />
      {dialog}
    </>
  );
}

function Row({
  r,
  now,
  image,
  selected,
  onToggle,
  onAction,
}: {
  r: ServerRow;
  now: number;
  image: string;
  selected: boolean;
  onToggle: () => void;
  onAction: (a: (typeof SERVER_ACTIONS)[number]) => void;
}) {
  const actions = SERVER_ACTIONS.filter((a) => allows(a, r));
  return (
    <tr
      data-testid="server-row"
      data-server-id={r.id}
      data-name={r.name}
      className={`align-top ${selected ? 'bg-sky-50/60 dark:bg-sky-500/5' : 'hover:bg-slate-50/70 dark:hover:bg-slate-800/40'}`}
    >
      <td className="py-3 pl-4">
        <input
          type="checkbox"
          aria-label={`Select ${r.name}`}
          checked={selected}
          onChange={onToggle}
          className="size-4 rounded border-slate-300 text-sky-600"
        />
      </td>
      <td className="max-w-xs px-4 py-3">
        <Link
          href={`/project/instances/${r.id}`}
          className="font-medium whitespace-nowrap text-slate-900 hover:text-sky-600 dark:text-slate-100"
        >
          {r.name}
        </Link>
        {r.locked && <span className="ml-1.5 text-xs text-amber-600">locked</span>}
        {r.status === 'ERROR' && r.fault && (
          <p data-testid="server-fault" className="mt-1 text-xs break-words text-rose-600 dark:text-rose-400">
            {r.fault.message}
          </p>
        )}
      </td>
      <td className="px-4 py-3">
        <ServerStatus status={r.status} taskState={r.taskState} />
      </td>
      <td className="hidden px-4 py-3 whitespace-nowrap xl:table-cell">
        <PowerState value={r.powerState} />
      </td>
      <td className="px-4 py-3 whitespace-nowrap text-slate-600 dark:text-slate-300" data-testid="server-task">
        {taskLabel(r.taskState) ?? <span className="text-slate-400">—</span>}
      </td>
      <td className="hidden px-4 py-3 lg:table-cell">
        {r.addresses.length ? (
          <ul className="space-y-0.5 font-mono text-xs">
            {r.addresses.map((a) => (
              <li key={a.addr} title={a.network}>
                {a.addr}
                {a.type === 'floating' && <span className="ml-1 text-sky-600">floating</span>}
              </li>
            ))}
          </ul>
        ) : (
          <span className="text-slate-400">—</span>
        )}
      </td>
      <td className="hidden px-4 py-3 whitespace-nowrap lg:table-cell">
        <div>{r.flavor.name}</div>
        <div className="text-xs text-slate-500">
          {r.flavor.vcpus} vCPU · {formatRam(r.flavor.ramMb)}
        </div>
      </td>
      <td className="hidden max-w-40 truncate px-4 py-3 xl:table-cell">{image}</td>
      <td className="px-4 py-3 whitespace-nowrap text-slate-500" title={r.createdAt}>
        {age(r.createdAt, now)}
      </td>
      <td className="px-4 py-2 text-right">
        <Menu
          label={`Actions for ${r.name}`}
          button={<span className="text-lg leading-none">⋯</span>}
          buttonClassName="rounded-md px-2 py-1 text-slate-500 hover:bg-slate-100 hover:text-slate-800 dark:hover:bg-slate-800 dark:hover:text-slate-100"
        >
          {(close) => (
            <>
              <MenuItem href={`/project/instances/${r.id}`}>Details</MenuItem>
              {actions.map((a) => (
                <MenuItem
                  key={a.id}
                  danger={a.danger}
                  onSelect={() => {
                    close();
                    onAction(a);
                  }}
                >
                  {a.label}
                </MenuItem>
              ))}
            </>
          )}
        </Menu>
      </td>
    </tr>
  );
}
