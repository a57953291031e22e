import {
  createSubnet,
  deleteSubnet,
  listNetworks,
  listSubnets,
  SubnetInput,
  SubnetUpdate,
  updateSubnet,
} from '@stratus/core/network/index';
import { protectedProcedure, router } from '../../trpc/init';
import { Id, networkShape, subnetShape } from './shapes';

export const subnetsRouter = router({
  /** Subnets a router of this project may attach to: those of its own and shared, non-external networks. */
  attachable: protectedProcedure.query(async ({ ctx }) => {
    const nets = await listNetworks(ctx.auth, { visibleTo: ctx.auth.projectId ?? undefined, external: false });
    const subnets = nets.length ? await listSubnets(ctx.auth, { networkIds: nets.map((n) => n.id) }) : [];
    return {
      networks: nets.map((n) => networkShape(n, ctx.auth.projectId)),
      subnets: subnets.map(subnetShape),
    };
  }),
  create: protectedProcedure
    .input(SubnetInput.omit({ project_id: true, tenant_id: true, subnetpool_id: true, use_default_subnet_pool: true }))
    .mutation(async ({ ctx, input }) => subnetShape(await createSubnet(ctx.auth, input))),
  update: protectedProcedure
    .input(Id.extend({ patch: SubnetUpdate }))
    .mutation(async ({ ctx, input }) => subnetShape(await updateSubnet(ctx.auth, input.id, input.patch))),
  delete: protectedProcedure.input(Id).mutation(({ ctx, input }) => deleteSubnet(ctx.auth, input.id)),
});
