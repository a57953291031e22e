'use client';
import type { inferRouterOutputs } from '@trpc/server';
import Link from 'next/link';
import type { ReactNode } from 'react';
import { Badge } from '@/components/ui';
import { useCan } from '@/lib/can';
import type { AppRouter } from '@/server/routers';

type Out = inferRouterOutputs<AppRouter>['network'];
export type NetworkRow = Out['networks']['list']['items'][number];
export type NetworkBase = Out['networks']['get']['network'];
export type SubnetRow = Out['networks']['get']['subnets'][number];
export type PortRow = Out['networks']['get']['ports'][number];
export type RouterRow = Out['routers']['list']['items'][number];
export type FloatingIpRow = Out['floatingIps']['list']['items'][number];
export type SecurityGroupRow = Out['securityGroups']['list']['items'][number];
export type RuleRow = SecurityGroupRow['rules'][number];
export type Topology = Out['topology'];

/** Neutron statuses: ACTIVE green, BUILD amber, DOWN grey, ERROR red. */
export function NetStatus({ status }: { status: string }) {
  const tone = status === 'ACTIVE' ? 'green' : status === 'ERROR' ? 'red' : status === 'DOWN' ? 'slate' : 'amber';
  return (
    <span data-testid="net-status" data-status={status}>
      <Badge tone={tone}>{status}</Badge>
    </span>
  );
}

/** Whether the caller may change this project's networking (readers may not). */
export function useNetPermissions() {
  const can = useCan(['create_network', 'admin_required'] as const);
  return { write: can.create_network, admin: can.admin_required };
}

/** A resource's name, or the start of its id when it has none. */
export const label = (r: { name: string; id: string }) => r.name || r.id.slice(0, 8);

/** "Networks / net1": the crumb above a detail page. */
export function Crumbs({ parent, href, current }: { parent: string; href: string; current: ReactNode }) {
  return (
    <nav className="mb-2 text-sm text-slate-500" aria-label="Breadcrumb">
      <Link href={href} className="hover:text-sky-600">
        {parent}
      </Link>{' '}
      <span aria-hidden="true">/</span> {current}
    </nav>
  );
}

/** Who owns a port, in words: "router", "DHCP", "instance", … */
export function ownerLabel(owner: string): string {
  if (owner === 'network:router_interface') return 'router interface';
  if (owner === 'network:router_gateway') return 'router gateway';
  if (owner === 'network:dhcp') return 'DHCP';
  if (owner === 'network:floatingip') return 'floating IP';
  if (owner.startsWith('compute:')) return 'instance';
  return owner || 'unattached';
}

export { formatPools, formatRoutes, lines, parsePools, parseRoutes } from './text';
