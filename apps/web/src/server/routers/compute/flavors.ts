import { createFlavor, deleteFlavor, type Flavor, FlavorCreate, listFlavors } from '@stratus/core/compute/index';
import { z } from 'zod';
import { protectedProcedure, router } from '../../trpc/init';

export const flavorsRouter = router({
  /** Admins may ask for every flavor (`all`); others get the public ones and those shared with their project. */
  list: protectedProcedure
    .input(z.object({ all: z.boolean().optional() }).default({}))
    .query(
      ({ ctx, input }): Promise<Flavor[]> =>
        listFlavors(ctx.auth, { isPublic: input.all ? 'all' : undefined, sortKey: 'vcpus' }),
    ),
  create: protectedProcedure.input(FlavorCreate).mutation(({ ctx, input }) => createFlavor(ctx.auth, input)),
  delete: protectedProcedure
    .input(z.object({ flavorId: z.string().min(1) }))
    .mutation(({ ctx, input }) => deleteFlavor(ctx.auth, input.flavorId)),
});
