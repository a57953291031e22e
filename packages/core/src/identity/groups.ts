import { z } from 'zod';
import { badRequest, notFound } from '../platform/errors.ts';
import { enforce } from '../policy/index.ts';
import { revokeUserTokens } from './auth.ts';
import { db, DEFAULT_DOMAIN_ID, mapDbErrors, newId, page, pageArgs, toGroup, toUser } from './store.ts';
import { type AuthContext, type Group, ListOptions, type Page, type User } from './types.ts';

export const CreateGroupInput = z.object({
  name: z.string().trim().min(1).max(64),
  domainId: z.string().min(1).optional(),
  description: z.string().max(4096).nullish(),
});
export const UpdateGroupInput = z.object({
  groupId: z.string().min(1),
  name: z.string().trim().min(1).max(64).optional(),
  description: z.string().max(4096).nullish(),
});
export const ListGroupsInput = ListOptions.extend({ name: z.string().optional(), domainId: z.string().optional() });
const Membership = z.object({ groupId: z.string().min(1), userId: z.string().min(1) });

export async function listGroups(ctx: AuthContext, input: z.input<typeof ListGroupsInput> = {}): Promise<Page<Group>> {
  const o = ListGroupsInput.parse(input);
  enforce(ctx, 'identity:list_groups', { domain_id: o.domainId });
  const p = pageArgs(o);
  const rows = await db().group.findMany({
    ...p,
    where: {
      ...p.where,
      ...(o.name !== undefined ? { name: o.name } : {}),
      ...(o.domainId !== undefined ? { domainId: o.domainId } : {}),
    },
  });
  const out = page(rows, o.limit);
  return { items: out.items.map(toGroup), next: out.next };
}

export async function getGroup(ctx: AuthContext, input: { groupId: string }): Promise<Group> {
  enforce(ctx, 'identity:get_group', { group_id: input.groupId });
  const row = await db().group.findUnique({ where: { id: input.groupId } });
  if (!row) throw notFound(`Could not find group: ${input.groupId}.`);
  return toGroup(row);
}

export async function createGroup(ctx: AuthContext, input: z.input<typeof CreateGroupInput>): Promise<Group> {
  const o = CreateGroupInput.parse(input);
  const domainId = o.domainId ?? DEFAULT_DOMAIN_ID;
  enforce(ctx, 'identity:create_group', { domain_id: domainId });
  if (!(await db().domain.findUnique({ where: { id: domainId } })))
    throw badRequest(`Could not find domain: ${domainId}.`);
  const row = await mapDbErrors('group', () =>
    db().group.create({ data: { id: newId(), name: o.name, domainId, description: o.description ?? '' } }),
  );
  return toGroup(row);
}

export async function updateGroup(ctx: AuthContext, input: z.input<typeof UpdateGroupInput>): Promise<Group> {
  const o = UpdateGroupInput.parse(input);
  enforce(ctx, 'identity:update_group', { group_id: o.groupId });
  const row = await mapDbErrors('group', () =>
    db().group.update({
      where: { id: o.groupId },
      data: {
        ...(o.name !== undefined ? { name: o.name } : {}),
        ...(o.description !== undefined ? { description: o.description ?? '' } : {}),
      },
    }),
  );
  return toGroup(row);
}

export async function deleteGroup(ctx: AuthContext, input: { groupId: string }): Promise<void> {
  enforce(ctx, 'identity:delete_group', { group_id: input.groupId });
  const row = await db().group.findUnique({ where: { id: input.groupId }, include: { members: true } });
  if (!row) throw notFound(`Could not find group: ${input.groupId}.`);
  await db().$transaction(async (tx) => {
    await tx.roleAssignment.deleteMany({ where: { actorType: 'group', actorId: row.id } });
    await tx.group.delete({ where: { id: row.id } });
  });
  await revokeUserTokens(row.members.map((m) => ({ userId: m.userId })));
}

async function requireBoth(o: { groupId: string; userId: string }): Promise<void> {
  const [g, u] = await Promise.all([
    db().group.findUnique({ where: { id: o.groupId } }),
    db().user.findUnique({ where: { id: o.userId } }),
  ]);
  if (!g) throw notFound(`Could not find group: ${o.groupId}.`);
  if (!u) throw notFound(`Could not find user: ${o.userId}.`);
}

export async function addUserToGroup(ctx: AuthContext, input: z.input<typeof Membership>): Promise<void> {
  const o = Membership.parse(input);
  enforce(ctx, 'identity:add_user_to_group', { group_id: o.groupId, user_id: o.userId });
  await requireBoth(o);
  await db().groupMembership.upsert({ where: { groupId_userId: o }, create: o, update: {} });
}

export async function removeUserFromGroup(ctx: AuthContext, input: z.input<typeof Membership>): Promise<void> {
  const o = Membership.parse(input);
  enforce(ctx, 'identity:remove_user_from_group', { group_id: o.groupId, user_id: o.userId });
  await requireBoth(o);
  const res = await db().groupMembership.deleteMany({ where: o });
  if (res.count === 0) throw notFound(`User ${o.userId} is not a member of group ${o.groupId}.`);
  await revokeUserTokens([{ userId: o.userId }]);
}

export async function checkUserInGroup(ctx: AuthContext, input: z.input<typeof Membership>): Promise<void> {
  const o = Membership.parse(input);
  enforce(ctx, 'identity:check_user_in_group', { group_id: o.groupId, user_id: o.userId });
  await requireBoth(o);
  if (!(await db().groupMembership.findUnique({ where: { groupId_userId: o } })))
    throw notFound(`User ${o.userId} is not a member of group ${o.groupId}.`);
}

export async function listGroupUsers(ctx: AuthContext, input: { groupId: string }): Promise<User[]> {
  enforce(ctx, 'identity:list_users_in_group', { group_id: input.groupId });
  if (!(await db().group.findUnique({ where: { id: input.groupId } })))
    throw notFound(`Could not find group: ${input.groupId}.`);
  const rows = await db().groupMembership.findMany({ where: { groupId: input.groupId }, include: { user: true } });
  return rows.map((r) => toUser(r.user)).sort((a, b) => a.name.localeCompare(b.name));
}
