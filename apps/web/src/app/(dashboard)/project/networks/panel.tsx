'use client';
import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import { DataTable } from '@/components/data-table';
import { Icon } from '@/components/icons';
import { ConfirmDialog } from '@/components/modal';
import { label, NetStatus, type NetworkRow, useNetPermissions } from '@/components/network/common';
import { NetworkDialog } from '@/components/network/network-dialog';
import { useToast } from '@/components/toast';
import { Badge, Button, Input, PageHeader, Select, Spinner } from '@/components/ui';
import { useMarkerPaging } from '@/lib/paging';
import { PAGE_SIZE, useInvalidate } from '@/lib/resource';
import { useTRPC } from '@/lib/trpc';

const SCOPES = [
  { value: 'all', label: 'All visible' },
  { value: 'project', label: 'This project' },
  { value: 'shared', label: 'Shared' },
  { value: 'external', label: 'External' },
] as const;
type Scope = (typeof SCOPES)[number]['value'];
const STATUSES = ['ACTIVE', 'BUILD', 'DOWN', 'ERROR'];

/**
 * Networks: the project's own plus shared and external ones, filtered and paged on the
 * server; `network.*`/`subnet.*` events refresh the page live (lib/live.ts).
 */
export function NetworksPanel() {
  const trpc = useTRPC();
  const router = useRouter();
  const toast = useToast();
  const invalidate = useInvalidate();
  const perms = useNetPermissions();
  const paging = useMarkerPaging();
  const [text, setText] = useState('');
  const [name, setName] = useState('');
  const [scope, setScope] = useState<Scope>('all');
  const [status, setStatus] = useState('');
  const [editing, setEditing] = useState<{ row: NetworkRow | null } | null>(null);
  const [deleting, setDeleting] = useState<NetworkRow | null>(null);
  const remove = useMutation(trpc.network.networks.delete.mutationOptions());
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
    ...trpc.network.networks.list.queryOptions({
      name: name || undefined,
      scope,
      status: status || undefined,
      marker: paging.marker,
      limit: PAGE_SIZE,
    }),
    placeholderData: keepPreviousData,
  });
  const confirmDelete = async () => {
    if (!deleting) return;
    try {
      await remove.mutateAsync({ id: deleting.id });
      toast.success(`Network ${label(deleting)} deleted`);
      setDeleting(null);
      await invalidate(trpc.network.pathKey());
    } catch {
      // the toast shows the server's message
    }
  };
  const filtered = Boolean(name || status || scope !== 'all');
  return (
    <>
      <PageHeader
        title="Networks"
        description="Private networks and their subnets. Instances get their addresses here; routers connect them."
        actions={
          perms.write && (
            <Button variant="primary" onClick={() => setEditing({ row: null })}>
              <Icon name="plus" className="size-4" /> Create network
            </Button>
          )
        }
      />
      <div className="mb-3 flex flex-wrap items-center gap-2">
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
          aria-label="Which networks"
          className="max-w-44"
          value={scope}
          onChange={(e) => {
            setScope(SCOPES.find((s) => s.value === e.target.value)?.value ?? 'all');
            paging.reset();
          }}
        >
          {SCOPES.map((s) => (
            <option key={s.value} value={s.value}>
              {s.label}
            </option>
          ))}
        </Select>
        <Select
          aria-label="Status"
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
        <span className="inline-flex size-4 items-center" aria-hidden="true">
          {query.isFetching && !query.isLoading && <Spinner className="size-3.5 text-slate-400" />}
        </span>
      </div>
      <DataTable
        label="Networks"
        rows={query.data?.items}
        rowKey={(r) => r.id}
        loading={query.isLoading}
        error={query.error}
        empty={
          filtered ? 'No network matches these filters.' : 'No networks yet. Create one to launch instances on it.'
        }
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
            cell: (n) => (
              <div data-testid="network-row" data-name={n.name}>
                <Link href={`/project/networks/${n.id}`} className="font-medium hover:text-sky-600">
                  {label(n)}
                </Link>
                {n.description && <p className="text-xs text-slate-500">{n.description}</p>}
              </div>
            ),
          },
          {
            header: 'Subnets',
            cell: (n) =>
              n.subnets.length ? (
                <ul className="space-y-0.5">
                  {n.subnets.map((s) => (
                    <li key={s.id} className="font-mono text-xs">
                      {s.name && <span className="font-sans text-slate-500">{s.name} </span>}
                      {s.cidr}
                    </li>
                  ))}
                </ul>
              ) : (
                <span className="text-slate-400">none</span>
              ),
          },
          {
            header: 'Kind',
            cell: (n) => (
              <div className="flex flex-wrap gap-1">
                {n.external && <Badge tone="sky">external</Badge>}
                {n.shared && <Badge tone="amber">shared</Badge>}
                {!n.external && !n.shared && <Badge>{n.own ? 'project' : 'other project'}</Badge>}
              </div>
            ),
            className: 'hidden sm:table-cell',
          },
          { header: 'Status', cell: (n) => <NetStatus status={n.status} /> },
          {
            header: 'Admin state',
            cell: (n) => (n.adminStateUp ? 'Up' : 'Down'),
            className: 'hidden md:table-cell text-slate-500',
          },
        ]}
        actions={[
          { label: 'Open', onSelect: (n) => router.push(`/project/networks/${n.id}`) },
          {
            label: 'Edit',
            onSelect: (row) => setEditing({ row }),
            hidden: (n) => !perms.write || (!n.own && !perms.admin),
          },
          {
            label: 'Delete',
            onSelect: setDeleting,
            danger: true,
            hidden: (n) => !perms.write || (!n.own && !perms.admin),
          },
        ]}
      />
      <NetworkDialog
        open={editing !== null}
        network={editing?.row ?? null}
        canShare={perms.admin}
        onClose={() => setEditing(null)}
        onCreated={(id) => router.push(`/project/networks/${id}`)}
      />
      <ConfirmDialog
        open={deleting !== null}
        title="Delete network"
        message={
          deleting && (
            <>
              Delete network <strong>{label(deleting)}</strong> and its subnets? Networks with instance or router ports
              cannot be deleted. This cannot be undone.
            </>
          )
        }
        busy={remove.isPending}
        onClose={() => setDeleting(null)}
        onConfirm={() => void confirmDelete()}
      />
    </>
  );
}
