import { type AdminServer, listAllServers, listHypervisorServers } from '@stratus/core/compute/index';
import { z } from 'zod';
import { protectedProcedure, router } from '../../trpc/init';

const iso = (d: Date | null) => d?.toISOString() ?? null;

/** The fields the instance tables and actions (components/compute/actions.tsx) read. */
const shape = (s: AdminServer) => ({
  id: s.id,
  name: s.name,
  projectId: s.projectId,
  projectName: s.projectName,
  userId: s.userId,
  flavor: s.flavor,
  imageId: s.imageId,
  host: s.host,
  availabilityZone: s.availabilityZone,
  vmState: s.vmState,
  taskState: s.taskState,
  powerState: s.powerState,
  status: s.status,
  locked: s.locked,
  fault: s.fault,
  addresses: Object.entries(s.addresses).flatMap(([network, list]) =>
    list.map((a) => ({ addr: a.addr, version: a.version, type: a['OS-EXT-IPS:type'], network })),
  ),
  launchedAt: iso(s.launchedAt),
  createdAt: s.createdAt.toISOString(),
  updatedAt: s.updatedAt.toISOString(),
});

const Filters = z.object({
  projectId: z.string().max(64).optional(),
  status: z.string().max(32).optional(),
  name: z.string().max(255).optional(),
  marker: z.string().max(64).optional(),
  limit: z.number().int().min(1).max(200).default(20),
});

export const instancesRouter = router({
  /** Every project's servers (policy servers:detail:get_all_tenants), filtered and paged on the server. */
  list: protectedProcedure
    .input(Filters.extend({ host: z.string().max(255).optional() }))
    .query(async ({ ctx, input }) => {
      const r = await listAllServers(ctx.auth, input);
      return { items: r.items.map(shape), next: r.next };
    }),
  /** The servers on one hypervisor (policy os-hypervisors:servers). */
  onHypervisor: protectedProcedure
    .input(Filters.extend({ hypervisorId: z.string().min(1).max(255) }))
    .query(async ({ ctx, input }) => {
      const { hypervisorId, ...o } = input;
      const r = await listHypervisorServers(ctx.auth, hypervisorId, o);
      return { items: r.items.map(shape), next: r.next };
    }),
});
