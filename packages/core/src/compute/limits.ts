import type { AuthContext } from '../identity/types.ts';
import { enforce } from '../policy/index.ts';
import { db, projectOf } from './common.ts';
import { quotaLimits, quotaUsage } from './quotas.ts';

/** Nova's absolute limits with usage, for `GET /limits` and the dashboard's gauges. */
export async function getLimits(ctx: AuthContext, o: { projectId?: string } = {}) {
  const own = projectOf(ctx);
  enforce(ctx, 'os_compute_api:limits');
  let projectId = own;
  if (o.projectId && o.projectId !== own) {
    enforce(ctx, 'os_compute_api:limits:other_project');
    projectId = o.projectId;
  }
  const limits = await quotaLimits(projectId);
  const used = await quotaUsage(projectId);
  const keyPairs = await db().keyPair.count({ where: { userId: ctx.userId } });
  return {
    maxTotalInstances: limits.instances,
    maxTotalCores: limits.cores,
    maxTotalRAMSize: limits.ram,
    maxTotalKeypairs: limits.key_pairs,
    maxServerMeta: limits.metadata_items,
    maxServerGroups: limits.server_groups,
    maxServerGroupMembers: limits.server_group_members,
    maxPersonality: 5,
    maxPersonalitySize: 10240,
    maxImageMeta: limits.metadata_items,
    totalInstancesUsed: used.instances,
    totalCoresUsed: used.cores,
    totalRAMUsed: used.ram,
    totalServerGroupsUsed: used.server_groups,
    totalKeyPairsUsed: keyPairs,
  };
}
