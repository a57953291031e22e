import { router } from '../../trpc/init';
import { floatingIpsRouter } from './floating-ips';
import { networksRouter } from './networks';
import { routersRouter } from './routers';
import { securityGroupsRouter } from './security-groups';
import { subnetsRouter } from './subnets';
import { topologyProcedure } from './topology';

/** Networking for the dashboard: a thin adapter over packages/core/src/network, like the Neutron REST API. */
export const networkRouter = router({
  networks: networksRouter,
  subnets: subnetsRouter,
  routers: routersRouter,
  floatingIps: floatingIpsRouter,
  securityGroups: securityGroupsRouter,
  topology: topologyProcedure,
});
