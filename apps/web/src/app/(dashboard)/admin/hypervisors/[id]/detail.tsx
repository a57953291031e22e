'use client';
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { AdminServerTable } from '@/components/admin/server-table';
import { HostState, ResourceBar, ServiceStatus, useHeartbeatExpiry } from '@/components/admin/usage';
import { age, useNow } from '@/components/compute/status';
import { Card, PageHeader, Spinner } from '@/components/ui';
import { useTRPC } from '@/lib/trpc';

/** One compute node: capacity and usage per resource class, host facts, and the servers on it. */
export function HypervisorDetail({ id }: { id: string }) {
  const trpc = useTRPC();
  const now = useNow(10_000);
  const query = useQuery(trpc.admin.hypervisors.get.queryOptions({ id }));
  const h = query.data;
  useHeartbeatExpiry(
    h && { rows: [h], serverNow: h.serverNow, downSeconds: h.serviceDownSeconds },
    query.dataUpdatedAt,
    query.refetch,
  );
  if (query.isLoading) return <Spinner className="size-5 text-sky-600" />;
  if (query.error || !h)
    return (
      <p role="alert" className="text-rose-600 dark:text-rose-400">
        {query.error?.message ?? 'Hypervisor not found.'}
      </p>
    );
  const cpu = parseCpu(h.cpuInfo);
  return (
    <>
      <nav className="mb-2 text-sm text-slate-500">
        <Link href="/admin/hypervisors" className="hover:text-sky-600">
          Hypervisors
        </Link>{' '}
        / {h.host}
      </nav>
      <PageHeader title={h.hypervisorHostname} description={`${h.hypervisorType} ${h.hypervisorVersion}`} />
      <div className="mb-6 grid gap-6 lg:grid-cols-3">
        <Card title="Usage" className="lg:col-span-2">
          <div className="grid gap-5 sm:grid-cols-3" data-testid="hypervisor-usage">
            {['VCPU', 'MEMORY_MB', 'DISK_GB'].map((rc) => (
              <ResourceBar key={rc} rc={rc} usage={h.resources[rc]} />
            ))}
          </div>
          <p className="mt-4 text-sm text-slate-500" data-testid="hypervisor-instances" data-count={h.instances}>
            {h.instances} instance{h.instances === 1 ? '' : 's'} on this host, {h.running} running.
          </p>
        </Card>
        <Card title="Host">
          <dl className="space-y-2 text-sm">
            <Prop label="State">
              <HostState state={h.state} />
            </Prop>
            <Prop label="Compute service">
              <ServiceStatus status={h.status} reason={h.disabledReason} />
            </Prop>
            <Prop label="Last heartbeat">
              {h.lastHeartbeat ? `${age(h.lastHeartbeat, now)} (${h.lastHeartbeat.slice(11, 19)} UTC)` : '—'}
            </Prop>
            <Prop label="Host IP">{h.hostIp}</Prop>
            {cpu && <Prop label="CPU">{cpu}</Prop>}
            <Prop label="Resource provider">
              <code className="text-xs break-all">{h.resourceProviderUuid}</code>
            </Prop>
          </dl>
        </Card>
      </div>
      <h2 className="mb-3 text-base font-semibold">Instances</h2>
      <AdminServerTable hypervisorId={h.id} />
    </>
  );
}

function Prop({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="flex items-start justify-between gap-4">
      <dt className="text-slate-500 dark:text-slate-400">{label}</dt>
      <dd className="text-right">{children}</dd>
    </div>
  );
}

function parseCpu(info: string): string | null {
  try {
    const v: unknown = JSON.parse(info);
    if (v && typeof v === 'object' && 'model' in v && 'arch' in v) return `${String(v.model)} (${String(v.arch)})`;
  } catch {
    // not JSON: shown as is
  }
  return info || null;
}
