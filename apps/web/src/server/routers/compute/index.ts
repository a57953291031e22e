import { getLimits, listServerGroups } from '@stratus/core/compute/index';
import { listNetworks } from '@stratus/core/network/index';
import { protectedProcedure, router } from '../../trpc/init';
import { consoleRouter } from '../console';
import { flavorsRouter } from './flavors';
import { keypairsRouter } from './keypairs';
import { serversRouter } from './servers';

export const computeRouter = router({
  servers: serversRouter,
  flavors: flavorsRouter,
  keypairs: keypairsRouter,
  console: consoleRouter,
  /** Absolute limits with usage (instances, cores, RAM…), for quota bars and the launch wizard. */
  limits: protectedProcedure.query(({ ctx }) => getLimits(ctx.auth)),
  serverGroups: protectedProcedure.query(async ({ ctx }) =>
    (await listServerGroups(ctx.auth)).map((g) => ({
      id: g.id,
      name: g.name,
      policy: g.policy,
      members: g.members.length,
    })),
  ),
  /** Networks the project may attach servers to (its own and shared ones), for the launch wizard. */
  networks: protectedProcedure.query(async ({ ctx }) =>
    (await listNetworks(ctx.auth, { external: false })).map((n) => ({
      id: n.id,
      name: n.name,
      shared: n.shared,
      status: n.status,
      subnets: n.subnets.length,
    })),
  ),
});
