import {
  COMPUTE_OWNER,
  createFloatingIp,
  deleteFloatingIp,
  FloatingIpInput,
  listFloatingIps,
  listPorts,
  updateFloatingIp,
} from '@stratus/core/network/index';
import { z } from 'zod';
import { protectedProcedure, router } from '../../trpc/init';
import { Id, Page, floatingIpShape, paged, portShape } from './shapes';

export const floatingIpsRouter = router({
  list: protectedProcedure.input(Page).query(async ({ ctx, input }) => {
    const rows = await listFloatingIps(ctx.auth, {
      projectId: ctx.auth.projectId ?? undefined,
      marker: input.marker,
      limit: input.limit + 1,
    });
    const page = paged(rows, input.limit);
    return { items: page.items.map(floatingIpShape), next: page.next };
  }),
  /** Instance ports of this project: what a floating IP can be associated with. */
  targets: protectedProcedure.query(async ({ ctx }) =>
    (await listPorts(ctx.auth, { projectId: ctx.auth.projectId ?? undefined, deviceOwners: [COMPUTE_OWNER] })).map(
      portShape,
    ),
  ),
  create: protectedProcedure
    .input(FloatingIpInput.pick({ floating_network_id: true, port_id: true, description: true }))
    .mutation(async ({ ctx, input }) => floatingIpShape(await createFloatingIp(ctx.auth, input))),
  /** port_id associates (optionally choosing the fixed IP); null disassociates. */
  update: protectedProcedure
    .input(Id.extend({ portId: z.string().min(1).nullable(), fixedIp: z.string().max(64).optional() }))
    .mutation(async ({ ctx, input }) =>
      floatingIpShape(
        await updateFloatingIp(ctx.auth, input.id, { port_id: input.portId, fixed_ip_address: input.fixedIp }),
      ),
    ),
  delete: protectedProcedure.input(Id).mutation(({ ctx, input }) => deleteFloatingIp(ctx.auth, input.id)),
});
