import { can } from '@stratus/core/policy/index';
import { protectedProcedure, router } from '../../trpc/init';
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
  /** What the caller may change in this project (to show or hide controls; core enforces anyway). */
  permissions: protectedProcedure.query(({ ctx }) => {
    const target = { project_id: ctx.auth.projectId ?? '', tenant_id: ctx.auth.projectId ?? '' };
    return {
      write: can(ctx.auth, 'create_network', target),
      admin: can(ctx.auth, 'admin_required'),
    };
  }),
});
