import {
  createNetworkWithSubnet,
  deleteNetwork,
  getNetwork,
  listNetworks,
  listPorts,
  listSubnets,
  NetworkInput,
  NetworkUpdate,
  SubnetInput,
  updateNetwork,
} from '@stratus/core/network/index';
import { z } from 'zod';
import { protectedProcedure, router } from '../../trpc/init';
import { Id, Page, networkShape, paged, portShape, subnetShape } from './shapes';

/** The first subnet as the create-network form sends it (core checks the addressing). */
export const FirstSubnet = SubnetInput.omit({
  network_id: true,
  project_id: true,
  tenant_id: true,
  subnetpool_id: true,
  use_default_subnet_pool: true,
});

export const networksRouter = router({
  /** The project's networks plus shared and external ones, filtered and paged in the database. */
  list: protectedProcedure
    .input(
      Page.extend({
        name: z.string().max(255).optional(),
        scope: z.enum(['all', 'project', 'shared', 'external']).default('all'),
        status: z.string().max(16).optional(),
      }),
    )
    .query(async ({ ctx, input }) => {
      const pid = ctx.auth.projectId;
      const rows = await listNetworks(ctx.auth, {
        visibleTo: pid ?? undefined,
        nameContains: input.name,
        projectId: input.scope === 'project' ? (pid ?? '') : undefined,
        shared: input.scope === 'shared' ? true : undefined,
        external: input.scope === 'external' ? true : undefined,
        status: input.status,
        marker: input.marker,
        limit: input.limit + 1,
      });
      const page = paged(rows, input.limit);
      const ids = page.items.map((n) => n.id);
      const subnets = ids.length ? await listSubnets(ctx.auth, { networkIds: ids }) : [];
      return {
        items: page.items.map((n) => ({
          ...networkShape(n, pid),
          subnets: subnets
            .filter((s) => s.networkId === n.id)
            .map((s) => ({
              id: s.id,
              name: s.name,
              cidr: s.cidr,
              ipVersion: s.ipVersion,
              ipv6RaMode: s.ipv6RaMode,
              ipv6AddressMode: s.ipv6AddressMode,
            })),
        })),
        next: page.next,
      };
    }),
  /** External networks: where router gateways and floating IPs come from. */
  external: protectedProcedure.query(async ({ ctx }) =>
    (await listNetworks(ctx.auth, { external: true })).map((n) => networkShape(n, ctx.auth.projectId)),
  ),
  /** One network with its subnets and ports (one page, as the detail page shows them). */
  get: protectedProcedure.input(Id).query(async ({ ctx, input }) => {
    const n = await getNetwork(ctx.auth, input.id);
    const [subnets, ports] = await Promise.all([
      listSubnets(ctx.auth, { networkIds: [n.id] }),
      listPorts(ctx.auth, { networkIds: [n.id] }),
    ]);
    return {
      network: networkShape(n, ctx.auth.projectId),
      subnets: subnets.map(subnetShape),
      ports: ports.map(portShape),
    };
  }),
  create: protectedProcedure
    .input(
      z.object({
        network: NetworkInput.pick({
          name: true,
          description: true,
          admin_state_up: true,
          shared: true,
          port_security_enabled: true,
          mtu: true,
        }),
        subnet: FirstSubnet.nullable(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const r = await createNetworkWithSubnet(ctx.auth, input.network, input.subnet);
      return {
        network: networkShape(r.network, ctx.auth.projectId),
        subnet: r.subnet ? subnetShape(r.subnet) : null,
      };
    }),
  update: protectedProcedure
    .input(
      Id.extend({
        patch: NetworkUpdate.pick({
          name: true,
          description: true,
          admin_state_up: true,
          shared: true,
          port_security_enabled: true,
        }),
      }),
    )
    .mutation(async ({ ctx, input }) =>
      networkShape(await updateNetwork(ctx.auth, input.id, input.patch), ctx.auth.projectId),
    ),
  delete: protectedProcedure.input(Id).mutation(({ ctx, input }) => deleteNetwork(ctx.auth, input.id)),
});
