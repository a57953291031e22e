import { listFloatingIps, listNetworks, listPorts, listRouters, listSubnets } from '@stratus/core/network/index';
import { protectedProcedure } from '../../trpc/init';
import { floatingIpShape, networkShape, portShape, routerShape, subnetShape } from './shapes';

/**
 * Everything the topology graph draws for the current project: the networks it sees
 * (own, shared, external) with their subnets, its routers, the ports on those networks
 * and its floating IPs. Instance names come from the compute servers list.
 */
export const topologyProcedure = protectedProcedure.query(async ({ ctx }) => {
  const pid = ctx.auth.projectId ?? undefined;
  const networks = await listNetworks(ctx.auth, { visibleTo: pid });
  const networkIds = networks.map((n) => n.id);
  const [subnets, routers, ports, floatingIps] = await Promise.all([
    networkIds.length ? listSubnets(ctx.auth, { networkIds }) : [],
    listRouters(ctx.auth, { projectId: pid }),
    networkIds.length ? listPorts(ctx.auth, { networkIds, projectId: pid }) : [],
    listFloatingIps(ctx.auth, { projectId: pid }),
  ]);
  return {
    networks: networks.map((n) => networkShape(n, ctx.auth.projectId)),
    subnets: subnets.map(subnetShape),
    routers: routers.map(routerShape),
    ports: ports.filter((p) => p.deviceOwner !== 'network:dhcp').map(portShape),
    floatingIps: floatingIps.map(floatingIpShape),
  };
});
