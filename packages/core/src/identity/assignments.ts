import { z } from 'zod';
import { badRequest, notFound } from '../platform/errors.ts';
import { enforce } from '../policy/index.ts';
import { revokeUserTokens } from './auth.ts';
import { emitIdentityEvent, usersOfActors } from './events.ts';
import type { RevocationFields } from './revocation.ts';
import { db, mapDbErrors, newId } from './store.ts';
import type { AuthContext, RoleAssignment } from './types.ts';

export const GrantInput = z
  .object({
    roleId: z.string().min(1),
    userId: z.string().min(1).optional(),
    groupId: z.string().min(1).optional(),
    projectId: z.string().min(1).optional(),
    domainId: z.string().min(1).optional(),
    system: z.boolean().optional(),
  })
  .refine((o) => Boolean(o.userId) !== Boolean(o.groupId), 'Specify exactly one of user or group.')
  .refine(
    (o) => [o.projectId, o.domainId, o.system].filter(Boolean).length === 1,
    'Specify exactly one of project, domain or system.',
  );
export type GrantInput = z.input<typeof GrantInput>;

export const ListAssignmentsInput = z.object({
  userId: z.string().optional(),
  groupId: z.string().optional(),
  projectId: z.string().optional(),
  domainId: z.string().optional(),
  system: z.boolean().optional(),
  roleId: z.string().optional(),
  effective: z.boolean().optional(),
  includeNames: z.boolean().optional(),
});

function keyOf(o: z.output<typeof GrantInput>) {
  return {
    roleId: o.roleId,
    actorType: o.userId ? 'user' : 'group',
    actorId: o.userId ?? o.groupId ?? '',
    targetType: o.projectId ? 'project' : o.domainId ? 'domain' : 'system',
    targetId: o.projectId ?? o.domainId ?? 'all',
  };
}

async function checkReferences(o: z.output<typeof GrantInput>): Promise<void> {
  if (!(await db().role.findUnique({ where: { id: o.roleId } }))) throw notFound(`Could not find role: ${o.roleId}.`);
  if (o.userId && !(await db().user.findUnique({ where: { id: o.userId } })))
    throw notFound(`Could not find user: ${o.userId}.`);
  if (o.groupId && !(await db().group.findUnique({ where: { id: o.groupId } })))
    throw notFound(`Could not find group: ${o.groupId}.`);
  if (o.projectId && !(await db().project.findUnique({ where: { id: o.projectId } })))
    throw notFound(`Could not find project: ${o.projectId}.`);
  if (o.domainId && !(await db().domain.findUnique({ where: { id: o.domainId } })))
    throw notFound(`Could not find domain: ${o.domainId}.`);
}

function parseGrant(input: GrantInput) {
  const r = GrantInput.safeParse(input);
  if (!r.success) throw badRequest(r.error.issues.map((i) => i.message).join('; '));
  return r.data;
}

function targetOf(o: z.output<typeof GrantInput>) {
  return { role_id: o.roleId, user_id: o.userId, group_id: o.groupId, project_id: o.projectId, domain_id: o.domainId };
}

/** PUT /v3/{projects|domains|system}/…/{users|groups}/…/roles/{role}; idempotent. */
export async function assignRole(ctx: AuthContext, input: GrantInput): Promise<void> {
  const o = parseGrant(input);
  enforce(ctx, 'identity:create_grant', targetOf(o));
  await checkReferences(o);
  const key = keyOf(o);
  await mapDbErrors('role assignment', () =>
    db().$transaction(async (tx) => {
      // ON CONFLICT DO NOTHING: granting twice (or twice at once) is not an error, and emits once.
      const id = newId();
      const { count } = await tx.roleAssignment.createMany({ data: [{ id, ...key }], skipDuplicates: true });
      if (count === 0) return;
      await emitIdentityEvent(tx, 'role_assignment', 'created', id, eventData(key), await usersOfActors(tx, [key]));
    }),
  );
}

/** What an assignment event says: the role, the actor and the target. */
function eventData(key: ReturnType<typeof keyOf>): Record<string, string> {
  return {
    roleId: key.roleId,
    [key.actorType === 'user' ? 'userId' : 'groupId']: key.actorId,
    ...(key.targetType === 'project' ? { projectId: key.targetId } : {}),
    ...(key.targetType === 'domain' ? { domainId: key.targetId } : {}),
    ...(key.targetType === 'system' ? { system: 'all' } : {}),
  };
}

export async function unassignRole(ctx: AuthContext, input: GrantInput): Promise<void> {
  const o = parseGrant(input);
  enforce(ctx, 'identity:revoke_grant', targetOf(o));
  await checkReferences(o);
  const key = keyOf(o);
  const { count, users } = await db().$transaction(async (tx) => {
    const rows = await tx.roleAssignment.findMany({ where: key, select: { id: true } });
    const res = await tx.roleAssignment.deleteMany({ where: key });
    const affected = await usersOfActors(tx, [key]);
    if (res.count > 0)
      await emitIdentityEvent(tx, 'role_assignment', 'deleted', rows[0]?.id ?? key.roleId, eventData(key), affected);
    return { count: res.count, users: affected };
  });
  if (count === 0) throw notFound(`Could not find role assignment with role: ${o.roleId}.`);
  // Tokens that carried the role stop validating: per project when scoped to one, else all of the user's.
  const events: RevocationFields[] = users.map((userId) =>
    o.projectId ? { userId, projectId: o.projectId } : { userId },
  );
  await revokeUserTokens(events);
}

/** HEAD/GET of one grant: NotFound when it does not exist. */
export async function checkRoleAssignment(ctx: AuthContext, input: GrantInput): Promise<void> {
  const o = parseGrant(input);
  enforce(ctx, 'identity:check_grant', targetOf(o));
  await checkReferences(o);
  const row = await db().roleAssignment.findUnique({
    where: { roleId_actorType_actorId_targetType_targetId: keyOf(o) },
  });
  if (!row) throw notFound(`Could not find role assignment with role: ${o.roleId}.`);
}

/**
 * GET /v3/role_assignments. `effective` replaces group assignments by one per member
 * (so a user filter also finds what comes through their groups).
 */
export async function listRoleAssignments(
  ctx: AuthContext,
  input: z.input<typeof ListAssignmentsInput> = {},
): Promise<RoleAssignment[]> {
  const o = ListAssignmentsInput.parse(input);
  enforce(ctx, 'identity:list_role_assignments', { project_id: o.projectId, user_id: o.userId, domain_id: o.domainId });
  const targetWhere = o.projectId
    ? { targetType: 'project', targetId: o.projectId }
    : o.domainId
      ? { targetType: 'domain', targetId: o.domainId }
      : o.system
        ? { targetType: 'system', targetId: 'all' }
        : {};
  let actorWhere: object = {};
  let userGroups: string[] = [];
  if (o.userId) {
    if (o.effective) {
      userGroups = (await db().groupMembership.findMany({ where: { userId: o.userId } })).map((m) => m.groupId);
      actorWhere = {
        OR: [
          { actorType: 'user', actorId: o.userId },
          { actorType: 'group', actorId: { in: userGroups } },
        ],
      };
    } else actorWhere = { actorType: 'user', actorId: o.userId };
  } else if (o.groupId) actorWhere = { actorType: 'group', actorId: o.groupId };
  const rows = await db().roleAssignment.findMany({
    where: { ...targetWhere, ...actorWhere, ...(o.roleId ? { roleId: o.roleId } : {}) },
    include: { role: true },
    orderBy: [{ targetType: 'asc' }, { createdAt: 'asc' }],
    take: 10_000,
  });

  const out: RoleAssignment[] = [];
  const groupMembers = new Map<string, string[]>();
  if (o.effective) {
    const gids = [...new Set(rows.filter((r) => r.actorType === 'group').map((r) => r.actorId))];
    const ms = await db().groupMembership.findMany({ where: { groupId: { in: gids } } });
    for (const m of ms) groupMembers.set(m.groupId, [...(groupMembers.get(m.groupId) ?? []), m.userId]);
  }
  for (const r of rows) {
    const scope: RoleAssignment['scope'] =
      r.targetType === 'project'
        ? { project: { id: r.targetId } }
        : r.targetType === 'domain'
          ? { domain: { id: r.targetId } }
          : { system: { all: true } };
    const role = { id: r.role.id, ...(o.includeNames ? { name: r.role.name } : {}) };
    if (r.actorType === 'user') out.push({ role, user: { id: r.actorId }, scope });
    else if (!o.effective) out.push({ role, group: { id: r.actorId }, scope });
    else {
      const members = groupMembers.get(r.actorId) ?? [];
      for (const uid of members) {
        if (o.userId && uid !== o.userId) continue;
        out.push({ role, user: { id: uid }, scope: structuredClone(scope), viaGroupId: r.actorId });
      }
    }
  }
  if (o.includeNames) await addNames(out);
  return out;
}

async function addNames(list: RoleAssignment[]): Promise<void> {
  const userIds = new Set<string>();
  const groupIds = new Set<string>();
  const projectIds = new Set<string>();
  const domainIds = new Set<string>();
  for (const a of list) {
    if (a.user) userIds.add(a.user.id);
    if (a.group) groupIds.add(a.group.id);
    if (a.scope.project) projectIds.add(a.scope.project.id);
    if (a.scope.domain) domainIds.add(a.scope.domain.id);
  }
  const [users, groups, projects] = await Promise.all([
    db().user.findMany({ where: { id: { in: [...userIds] } } }),
    db().group.findMany({ where: { id: { in: [...groupIds] } } }),
    db().project.findMany({ where: { id: { in: [...projectIds] } } }),
  ]);
  for (const x of [...users, ...groups, ...projects]) domainIds.add(x.domainId);
  const domains = new Map(
    (await db().domain.findMany({ where: { id: { in: [...domainIds] } } })).map((d) => [d.id, d.name]),
  );
  const um = new Map(users.map((u) => [u.id, u]));
  const gm = new Map(groups.map((g) => [g.id, g]));
  const pm = new Map(projects.map((p) => [p.id, p]));
  const dn = (id: string) => ({ domainId: id, domainName: domains.get(id) ?? id });
  for (const a of list) {
    const u = a.user && um.get(a.user.id);
    if (a.user && u) Object.assign(a.user, { name: u.name, ...dn(u.domainId) });
    const g = a.group && gm.get(a.group.id);
    if (a.group && g) Object.assign(a.group, { name: g.name, ...dn(g.domainId) });
    const p = a.scope.project && pm.get(a.scope.project.id);
    if (a.scope.project && p) Object.assign(a.scope.project, { name: p.name, ...dn(p.domainId) });
    if (a.scope.domain) a.scope.domain.name = domains.get(a.scope.domain.id);
  }
}
