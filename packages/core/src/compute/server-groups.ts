import type { ServerGroup as GroupRow } from '@stratus/db';
import type { AuthContext } from '../identity/types.ts';
import { badRequest, notFound } from '../platform/errors.ts';
import { can, enforce } from '../policy/index.ts';
import { db, isUuid, newUuid, overLimit, projectOf } from './common.ts';
import { lockProjectQuota, quotaLimits, quotaUsage } from './quotas.ts';

export const GROUP_POLICIES = ['affinity', 'anti-affinity', 'soft-affinity', 'soft-anti-affinity'] as const;

export interface ServerGroup {
  id: string;
  name: string;
  projectId: string;
  userId: string;
  policy: string;
  rules: Record<string, unknown>;
  members: string[];
}

function toGroup(r: GroupRow & { members: Array<{ serverId: string }> }): ServerGroup {
  const rules =
    r.rules && typeof r.rules === 'object' && !Array.isArray(r.rules) ? (r.rules as Record<string, unknown>) : {};
  return {
    id: r.id,
    name: r.name,
    projectId: r.projectId,
    userId: r.userId,
    policy: r.policy,
    rules,
    members: r.members.map((m) => m.serverId),
  };
}

export async function createServerGroup(
  ctx: AuthContext,
  input: { name: string; policy: string; rules?: Record<string, unknown> },
): Promise<ServerGroup> {
  const projectId = projectOf(ctx);
  enforce(ctx, 'os_compute_api:os-server-groups:create', { project_id: projectId, user_id: ctx.userId });
  if (!input.name.trim() || input.name.length > 255) throw badRequest('Invalid input for field/attribute name.');
  if (!(GROUP_POLICIES as readonly string[]).includes(input.policy)) {
    throw badRequest(
      `Invalid input for field/attribute policy. Value: ${input.policy}. '${input.policy}' is not one of ${GROUP_POLICIES.join(', ')}`,
    );
  }
  return db().$transaction(async (tx) => {
    await lockProjectQuota(tx, projectId);
    const limits = await quotaLimits(projectId, tx);
    const used = await quotaUsage(projectId, tx);
    if (limits.server_groups >= 0 && used.server_groups + 1 > limits.server_groups) {
      throw overLimit(`Quota exceeded, too many server groups.`);
    }
    const r = await tx.serverGroup.create({
      data: {
        id: newUuid(),
        name: input.name,
        projectId,
        userId: ctx.userId,
        policy: input.policy,
        rules: (input.rules ?? {}) as object,
      },
      include: { members: true },
    });
    return toGroup(r);
  });
}

export async function listServerGroups(ctx: AuthContext, o: { allProjects?: boolean } = {}): Promise<ServerGroup[]> {
  const projectId = projectOf(ctx);
  enforce(ctx, 'os_compute_api:os-server-groups:index', { project_id: projectId });
  const all = o.allProjects && can(ctx, 'os_compute_api:os-server-groups:index:all_projects');
  const rows = await db().serverGroup.findMany({
    where: all ? {} : { projectId },
    include: { members: true },
    orderBy: { createdAt: 'asc' },
  });
  return rows.map(toGroup);
}

async function load(ctx: AuthContext, id: string, action: string): Promise<ServerGroup> {
  const r = isUuid(id) ? await db().serverGroup.findUnique({ where: { id }, include: { members: true } }) : null;
  if (!r || !can(ctx, action, { project_id: r.projectId, user_id: r.userId }))
    throw notFound(`Instance group ${id} could not be found.`);
  return toGroup(r);
}

export async function getServerGroup(ctx: AuthContext, id: string): Promise<ServerGroup> {
  return load(ctx, id, 'os_compute_api:os-server-groups:show');
}

export async function deleteServerGroup(ctx: AuthContext, id: string): Promise<void> {
  const g = await load(ctx, id, 'os_compute_api:os-server-groups:delete');
  await db().serverGroup.delete({ where: { id: g.id } });
}
