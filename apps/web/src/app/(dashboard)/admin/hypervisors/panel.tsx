'use client';
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { HostState, ResourceBar, ServiceStatus, useHeartbeatExpiry } from '@/components/admin/usage';
import { age, useNow } from '@/components/compute/status';
import { DataTable } from '@/components/data-table';
import { PageHeader } from '@/components/ui';
import { useTRPC } from '@/lib/trpc';

/**
 * Compute nodes with their placement capacity and usage. Live: server events (a build
 * claiming resources, a delete releasing them) and worker starts invalidate this query;
 * a heartbeat going stale is re-checked when it would expire.
 */
export function HypervisorsPanel() {
  const trpc = useTRPC();
  const now = useNow(10_000);
  const query = useQuery(trpc.admin.hypervisors.list.queryOptions());
  const d = query.data;
  useHeartbeatExpiry(
    d && { rows: d.hypervisors, serverNow: d.serverNow, downSeconds: d.serviceDownSeconds },
    query.dataUpdatedAt,
    query.refetch,
  );
  const totals = d?.hypervisors.reduce(
    (a, h) => ({ hosts: a.hosts + 1, up: a.up + (h.state === 'up' ? 1 : 0), instances: a.instances + h.instances }),
    { hosts: 0, up: 0, instances: 0 },
  );
  return (
    <>
      <PageHeader
        title="Hypervisors"
        description="Compute hosts: heartbeat state, service status, and placement capacity (total − reserved, × allocation ratio) against what servers hold."
      />
      {totals && (
        <p className="mb-3 text-sm text-slate-500 dark:text-slate-400" data-testid="hypervisor-totals">
          {totals.hosts} host{totals.hosts === 1 ? '' : 's'}, {totals.up} up, {totals.instances} instance
          {totals.instances === 1 ? '' : 's'}
        </p>
      )}
      <DataTable
        label="Hypervisors"
        rows={d?.hypervisors}
        rowKey={(h) => h.id}
        loading={query.isLoading}
        error={query.error}
        empty="No compute host has registered yet. Start a worker with the compute role."
        columns={[
          {
            header: 'Host',
            cell: (h) => (
              <div data-testid="hypervisor-row" data-host={h.host}>
                <Link
                  href={`/admin/hypervisors/${h.id}`}
                  className="font-medium text-slate-900 hover:text-sky-600 dark:text-slate-100"
                >
                  {h.hypervisorHostname}
                </Link>
                <div className="text-xs whitespace-nowrap text-slate-500">
                  {h.hypervisorType} {h.hypervisorVersion}
                </div>
              </div>
            ),
          },
          { header: 'State', cell: (h) => <HostState state={h.state} /> },
          { header: 'Status', cell: (h) => <ServiceStatus status={h.status} reason={h.disabledReason} /> },
          { header: 'vCPUs', cell: (h) => <ResourceBar rc="VCPU" usage={h.resources.VCPU} compact /> },
          { header: 'RAM', cell: (h) => <ResourceBar rc="MEMORY_MB" usage={h.resources.MEMORY_MB} compact /> },
          {
            header: 'Disk',
            cell: (h) => <ResourceBar rc="DISK_GB" usage={h.resources.DISK_GB} compact />,
            className: 'hidden lg:table-cell',
          },
          {
            header: 'Instances',
            cell: (h) => (
              <span
                className="whitespace-nowrap tabular-nums"
                data-testid="hypervisor-instances"
                data-count={h.instances}
              >
                {h.instances}
                <span className="text-xs text-slate-500"> ({h.running} running)</span>
              </span>
            ),
          },
          {
            header: 'Heartbeat',
            cell: (h) => (
              <span className="text-slate-500" title={h.lastHeartbeat ?? ''}>
                {h.lastHeartbeat
                  ? `${age(h.lastHeartbeat, now)}${age(h.lastHeartbeat, now) === 'just now' ? '' : ' ago'}`
                  : '—'}
              </span>
            ),
            className: 'hidden 2xl:table-cell whitespace-nowrap',
          },
        ]}
      />
    </>
  );
}
