import {
  type ComputeService,
  listComputeServices,
  setComputeServiceForcedDown,
  setComputeServiceStatus,
} from '@stratus/core/compute/index';
import { loadConfig } from '@stratus/core/platform/config';
import { z } from 'zod';
import { protectedProcedure, router } from '../../trpc/init';

const shape = (s: ComputeService) => ({
  id: s.id,
  binary: s.binary,
  host: s.host,
  zone: s.zone,
  status: s.status,
  state: s.state,
  updatedAt: s.updatedAt.toISOString(),
  disabledReason: s.disabledReason,
  forcedDown: s.forcedDown,
});

export const servicesRouter = router({
  /** Compute services (nova-compute, nova-scheduler, nova-conductor per worker), admin only in core. */
  list: protectedProcedure.query(async ({ ctx }) => ({
    services: (await listComputeServices(ctx.auth)).map(shape),
    serviceDownSeconds: loadConfig().serviceDownSeconds,
    serverNow: new Date().toISOString(),
  })),
  /** Enables or disables a host's compute service; the scheduler skips disabled hosts. */
  setStatus: protectedProcedure
    .input(
      z.object({
        serviceId: z.string().uuid(),
        disabled: z.boolean(),
        reason: z.string().trim().max(255).optional(),
      }),
    )
    .mutation(async ({ ctx, input }) =>
      shape(
        await setComputeServiceStatus(
          ctx.auth,
          { id: input.serviceId },
          { disabled: input.disabled, reason: input.reason || null },
        ),
      ),
    ),
  /**
   * Nova's forced_down: the host counts as down whatever its heartbeats say (an operator
   * fenced it), so the scheduler places nothing there until it is unset.
   */
  setForcedDown: protectedProcedure
    .input(z.object({ serviceId: z.string().uuid(), forcedDown: z.boolean() }))
    .mutation(async ({ ctx, input }) =>
      shape(await setComputeServiceForcedDown(ctx.auth, { id: input.serviceId }, input.forcedDown)),
    ),
});
