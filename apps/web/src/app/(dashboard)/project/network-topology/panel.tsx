'use client';
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { TopologyGraph } from '@/components/network/topology';
import { Card, PageHeader, Spinner } from '@/components/ui';
import { useTRPC } from '@/lib/trpc';

/**
 * The project's network topology, live: network, subnet, port, router and floating-IP
 * events (and server events for instances) invalidate these two queries (lib/live.ts),
 * so the graph redraws as things change without a reload.
 */
export function TopologyPanel() {
  const trpc = useTRPC();
  const topology = useQuery(trpc.network.topology.queryOptions());
  const servers = useQuery(trpc.compute.servers.list.queryOptions({ limit: 200 }));
  const t = topology.data;
  const empty = t && t.networks.length === 0 && t.routers.length === 0;
  return (
    <>
      <PageHeader
        title="Network Topology"
        description="Networks, routers and instances of this project and how they connect. Select anything to open it."
        actions={
          (topology.isFetching || servers.isFetching) && !topology.isLoading ? (
            <Spinner className="size-4 text-slate-400" />
          ) : undefined
        }
      />
      {topology.isLoading && <Spinner className="size-6 text-sky-600" />}
      {topology.error && (
        <p role="alert" className="text-rose-600">
          {topology.error.message}
        </p>
      )}
      {empty && (
        <Card>
          <p className="text-sm text-slate-500">
            Nothing to draw yet.{' '}
            <Link href="/project/networks" className="text-sky-600">
              Create a network
            </Link>
            , then{' '}
            <Link href="/project/routers" className="text-sky-600">
              a router
            </Link>{' '}
            to connect it.
          </p>
        </Card>
      )}
      {t && !empty && (
        <div className="overflow-auto rounded-xl border border-slate-200 bg-white p-4 shadow-xs dark:border-slate-800 dark:bg-slate-900">
          <TopologyGraph
            topology={t}
            servers={(servers.data?.items ?? []).map((s) => ({ id: s.id, name: s.name, status: s.status }))}
          />
        </div>
      )}
    </>
  );
}
