import {
  addRouterInterface,
  createRouter,
  deleteRouter,
  getRouter,
  listPorts,
  listRouters,
  removeRouterInterface,
  RouterInput,
  RouterUpdate,
  updateRouter,
} from '@stratus/core/network/index';
import { z } from 'zod';
import { protectedProcedure, router } from '../../trpc/init';
import { Id, Page, paged, portShape, routerShape } from './shapes';

export const routersRouter = router({
  list: protectedProcedure
    .input(Page.extend({ name: z.string().max(255).optional() }))
    .query(async ({ ctx, input }) => {
      const rows = await listRouters(ctx.auth, {
        projectId: ctx.auth.projectId ?? undefined,
        names: input.name ? [input.name] : undefined,
        marker: input.marker,
        limit: input.limit + 1,
      });
      const page = paged(rows, input.limit);
      return { items: page.items.map(routerShape), next: page.next };
    }),
  /** A router with its interface ports (their addresses). */
  get: protectedProcedure.input(Id).query(async ({ ctx, input }) => {
    const r = await getRouter(ctx.auth, input.id);
    const ports = await listPorts(ctx.auth, { deviceIds: [r.id] });
    return { router: routerShape(r), ports: ports.map(portShape) };
  }),
  create: protectedProcedure
    .input(RouterInput.pick({ name: true, description: true, admin_state_up: true, external_gateway_info: true }))
    .mutation(async ({ ctx, input }) => routerShape(await createRouter(ctx.auth, input))),
  /** Rename, set or clear the external gateway (null clears), replace the static routes. */
  update: protectedProcedure
    .input(
      Id.extend({
        patch: RouterUpdate.pick({
          name: true,
          description: true,
          admin_state_up: true,
          external_gateway_info: true,
          routes: true,
        }),
      }),
    )
    .mutation(async ({ ctx, input }) => routerShape(await updateRouter(ctx.auth, input.id, input.patch))),
  delete: protectedProcedure.input(Id).mutation(({ ctx, input }) => deleteRouter(ctx.auth, input.id)),
  addInterface: protectedProcedure
    .input(Id.extend({ subnetId: z.string().min(1) }))
    .mutation(({ ctx, input }) => addRouterInterface(ctx.auth, input.id, { subnet_id: input.subnetId })),
  removeInterface: protectedProcedure
    .input(Id.extend({ portId: z.string().min(1) }))
    .mutation(({ ctx, input }) => removeRouterInterface(ctx.auth, input.id, { port_id: input.portId })),
});
