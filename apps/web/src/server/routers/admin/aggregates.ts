import {
  addAggregateHost,
  createAggregate,
  deleteAggregate,
  type HostAggregateView,
  listAggregates,
  removeAggregateHost,
  setAggregateMetadata,
  updateAggregate,
} from '@stratus/core/compute/index';
import { z } from 'zod';
import { protectedProcedure, router } from '../../trpc/init';

const shape = (a: HostAggregateView) => ({
  ...a,
  createdAt: a.createdAt.toISOString(),
  updatedAt: a.updatedAt.toISOString(),
});

const Id = z.object({ id: z.number().int().min(1).max(2147483647) });
const Host = Id.extend({ host: z.string().min(1).max(255) });

/** Host aggregates (os-aggregates policy, admin by default): core checks zones and membership. */
export const aggregatesRouter = router({
  list: protectedProcedure.query(async ({ ctx }) => (await listAggregates(ctx.auth)).map(shape)),
  create: protectedProcedure
    .input(z.object({ name: z.string().max(255), availabilityZone: z.string().max(255).nullish() }))
    .mutation(async ({ ctx, input }) => shape(await createAggregate(ctx.auth, input))),
  update: protectedProcedure
    .input(Id.extend({ name: z.string().max(255).optional(), availabilityZone: z.string().max(255).nullish() }))
    .mutation(async ({ ctx, input }) =>
      shape(await updateAggregate(ctx.auth, input.id, { name: input.name, availabilityZone: input.availabilityZone })),
    ),
  delete: protectedProcedure.input(Id).mutation(({ ctx, input }) => deleteAggregate(ctx.auth, input.id)),
  addHost: protectedProcedure
    .input(Host)
    .mutation(async ({ ctx, input }) => shape(await addAggregateHost(ctx.auth, input.id, input.host))),
  removeHost: protectedProcedure
    .input(Host)
    .mutation(async ({ ctx, input }) => shape(await removeAggregateHost(ctx.auth, input.id, input.host))),
  /** Merges: a null value removes the key; availability_zone moves the aggregate's zone. */
  setMetadata: protectedProcedure
    .input(Id.extend({ metadata: z.record(z.string().min(1).max(255), z.string().max(255).nullable()) }))
    .mutation(async ({ ctx, input }) => shape(await setAggregateMetadata(ctx.auth, input.id, input.metadata))),
});
