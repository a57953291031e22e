import type { Tx } from '@stratus/db';
import { z } from 'zod';
import { badRequest, notFound } from '../platform/errors.ts';
import { enforce } from '../policy/index.ts';
import { revokeUserTokens } from './auth.ts';
import { emitIdentityEvent } from './events.ts';
import { db, DEFAULT_DOMAIN_ID, mapDbErrors, nameWhere, newId, page, pageArgs, toGroup, toUser } from './store.ts';
import { type AuthContext, type Group, NamedListOptions, type Page, type User } from './types.ts';

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
export const ListGroupsInput = NamedListOptions.extend({ domainId: z.string().optional() });
const Membership = z.object({ groupId: z.string().min(1), userId: z.string().min(1) });

export async function listGroups(ctx: AuthContext, input: z.input<typeof ListGroupsInput> = {}): Promise<Page<Group>> {
  const o = ListGroupsInput.parse(input);
  enforce(ctx, 'identity:list_groups', { domain_id: o.domainId });
  const p = pageArgs(o);
  const rows = await db().group.findMany({
    ...p,
    where: {
      ...p.where,
      ...nameWhere(o),
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
    db().$transaction(async (tx) => {
      const r = await tx.group.create({
        data: { id: newId(), name: o.name, domainId, description: o.description ?? '' },
      });
      await emitIdentityEvent(tx, 'group', 'created', r.id, { name: r.name, domainId: r.domainId });
      return r;
    }),
  );
  return toGroup(row);
}

export async function updateGroup(ctx: AuthContext, input: z.input<typeof UpdateGroupInput>): Promise<Group> {
  const o = UpdateGroupInput.parse(input);
  enforce(ctx, 'identity:update_group', { group_id: o.groupId });
  const row = await mapDbErrors(`group ${o.groupId}`, () =>
    db().$transaction(async (tx) => {
      const r = await tx.group.update({
        where: { id: o.groupId },
        data: {
          ...(o.name !== undefined ? { name: o.name } : {}),
          ...(o.description !== undefined ? { description: o.description ?? '' } : {}),
        },
      });
      await emitIdentityEvent(tx, 'group', 'updated', r.id, { name: r.name });
      return r;
    }),
  );
  return toGroup(row);
}

export async function deleteGroup(ctx: AuthContext, input: { groupId: string }): Promise<void> {
  enforce(ctx, 'identity:delete_group', { group_id: input.groupId });
  const row = await db().group.findUnique({ where: { id: input.groupId }, include: { members: true } });
  if (!row) throw notFound(`Could not find group: ${input.groupId}.`);
  await db().$transaction(async (tx) => {
    const held = await tx.roleAssignment.deleteMany({ where: { actorType: 'group', actorId: row.id } });
    await tx.group.delete({ where: { id: row.id } });
    await emitIdentityEvent(tx, 'group', 'deleted', row.id, { name: row.name });
    const members = row.members.map((m) => m.userId);
    if (held.count > 0 && members.length)
      await emitIdentityEvent(tx, 'role_assignment', 'deleted', row.id, { groupId: row.id }, members);
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
  await db().$transaction(async (tx) => {
    await tx.groupMembership.upsert({ where: { groupId_userId: o }, create: o, update: {} });
    await membershipChanged(tx, o, 'created');
  });
}

/** A member joined or left: the group's lists change, and the member's roles when the group holds any. */
async function membershipChanged(tx: Tx, o: { groupId: string; userId: string }, action: 'created' | 'deleted') {
  await emitIdentityEvent(tx, 'group', 'updated', o.groupId, { userId: o.userId, member: action === 'created' });
  if ((await tx.roleAssignment.count({ where: { actorType: 'group', actorId: o.groupId } })) > 0)
    await emitIdentityEvent(tx, 'role_assignment', action, o.groupId, { groupId: o.groupId }, [o.userId]);
}

export async function removeUserFromGroup(ctx: AuthContext, input: z.input<typeof Membership>): Promise<void> {
  const o = Membership.parse(input);
  enforce(ctx, 'identity:remove_user_from_group', { group_id: o.groupId, user_id: o.userId });
  await requireBoth(o);
  const res = await db().$transaction(async (tx) => {
    const r = await tx.groupMembership.deleteMany({ where: o });
    if (r.count > 0) await membershipChanged(tx, o, 'deleted');
    return r;
  });
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
