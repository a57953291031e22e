import { getHypervisorUsage, type HypervisorUsage, listHypervisorUsage } from '@stratus/core/compute/index';
import { z } from 'zod';
import { protectedProcedure, router } from '../../trpc/init';

/** Dates travel as ISO strings. */
const shape = (h: HypervisorUsage) => ({
  ...h,
  lastHeartbeat: h.lastHeartbeat?.toISOString() ?? null,
});

export const hypervisorsRouter = router({
  /** Every compute node with placement usage and instance counts (admin). */
  list: protectedProcedure.query(async ({ ctx }) => {
    const r = await listHypervisorUsage(ctx.auth);
    return {
      hypervisors: r.hypervisors.map(shape),
      serviceDownSeconds: r.serviceDownSeconds,
      serverNow: new Date().toISOString(),
    };
  }),
  /** One compute node by id or host name. */
  get: protectedProcedure.input(z.object({ id: z.string().min(1).max(255) })).query(async ({ ctx, input }) => {
    const h = await getHypervisorUsage(ctx.auth, input.id);
    return { ...shape(h), serviceDownSeconds: h.serviceDownSeconds, serverNow: new Date().toISOString() };
  }),
});
