import { z } from 'zod';
import { badRequest, notFound, unauthorized } from '../platform/errors.ts';
import { enforce } from '../policy/index.ts';
import { revokeUserTokens } from './auth.ts';
import { emitIdentityEvent } from './events.ts';
import { hashPassword, verifyPassword } from './password.ts';
import {
  db,
  DEFAULT_DOMAIN_ID,
  mapDbErrors,
  nameWhere,
  newId,
  page,
  pageArgs,
  toGroup,
  toProject,
  toUser,
} from './store.ts';
import { type AuthContext, type Group, NamedListOptions, type Page, type Project, type User } from './types.ts';

const password = z.string().min(1).max(4096);
export const CreateUserInput = z.object({
  name: z.string().trim().min(1).max(255),
  domainId: z.string().min(1).optional(),
  password: password.nullish(),
  defaultProjectId: z.string().min(1).nullish(),
  email: z.string().max(255).nullish(),
  description: z.string().max(4096).nullish(),
  enabled: z.boolean().optional(),
});
export const UpdateUserInput = z.object({
  userId: z.string().min(1),
  name: z.string().trim().min(1).max(255).optional(),
  password: password.nullish(),
  defaultProjectId: z.string().min(1).nullish(),
  email: z.string().max(255).nullish(),
  description: z.string().max(4096).nullish(),
  enabled: z.boolean().optional(),
});
export const ChangePasswordInput = z.object({ userId: z.string().min(1), originalPassword: z.string(), password });
export const ListUsersInput = NamedListOptions.extend({
  domainId: z.string().optional(),
  enabled: z.boolean().optional(),
});

export async function listUsers(ctx: AuthContext, input: z.input<typeof ListUsersInput> = {}): Promise<Page<User>> {
  const o = ListUsersInput.parse(input);
  enforce(ctx, 'identity:list_users', { domain_id: o.domainId });
  const p = pageArgs(o);
  const rows = await db().user.findMany({
    ...p,
    where: {
      ...p.where,
      ...nameWhere(o),
      ...(o.domainId !== undefined ? { domainId: o.domainId } : {}),
      ...(o.enabled !== undefined ? { enabled: o.enabled } : {}),
    },
  });
  const out = page(rows, o.limit);
  return { items: out.items.map(toUser), next: out.next };
}

export async function getUser(ctx: AuthContext, input: { userId: string }): Promise<User> {
  enforce(ctx, 'identity:get_user', { user_id: input.userId });
  const row = await db().user.findUnique({ where: { id: input.userId } });
  if (!row) throw notFound(`Could not find user: ${input.userId}.`);
  return toUser(row);
}

async function checkDefaultProject(id: string | null | undefined): Promise<void> {
  if (id && !(await db().project.findUnique({ where: { id } }))) throw badRequest(`Could not find project: ${id}.`);
}

export async function createUser(ctx: AuthContext, input: z.input<typeof CreateUserInput>): Promise<User> {
  const o = CreateUserInput.parse(input);
  const domainId = o.domainId ?? DEFAULT_DOMAIN_ID;
  enforce(ctx, 'identity:create_user', { domain_id: domainId });
  if (!(await db().domain.findUnique({ where: { id: domainId } })))
    throw badRequest(`Could not find domain: ${domainId}.`);
  await checkDefaultProject(o.defaultProjectId);
  const passwordHash = o.password ? await hashPassword(o.password) : null;
  const row = await mapDbErrors('user', () =>
    db().$transaction(async (tx) => {
      const r = await tx.user.create({
        data: {
          id: newId(),
          name: o.name,
          domainId,
          passwordHash,
          passwordChangedAt: passwordHash ? new Date() : null,
          defaultProjectId: o.defaultProjectId ?? null,
          email: o.email ?? null,
          description: o.description ?? '',
          enabled: o.enabled ?? true,
        },
      });
      await emitIdentityEvent(tx, 'user', 'created', r.id, { name: r.name, domainId: r.domainId });
      return r;
    }),
  );
  return toUser(row);
}

export async function updateUser(ctx: AuthContext, input: z.input<typeof UpdateUserInput>): Promise<User> {
  const o = UpdateUserInput.parse(input);
  enforce(ctx, 'identity:update_user', { user_id: o.userId });
  const before = await db().user.findUnique({ where: { id: o.userId } });
  if (!before) throw notFound(`Could not find user: ${o.userId}.`);
  await checkDefaultProject(o.defaultProjectId);
  const passwordHash = o.password ? await hashPassword(o.password) : undefined;
  const row = await mapDbErrors('user', () =>
    db().$transaction(async (tx) => {
      const r = await tx.user.update({
        where: { id: o.userId },
        data: {
          ...(o.name !== undefined ? { name: o.name } : {}),
          ...(passwordHash
            ? { passwordHash, passwordChangedAt: new Date(), failedAttempts: 0, lockedUntil: null }
            : {}),
          ...(o.defaultProjectId !== undefined ? { defaultProjectId: o.defaultProjectId } : {}),
          ...(o.email !== undefined ? { email: o.email } : {}),
          ...(o.description !== undefined ? { description: o.description ?? '' } : {}),
          ...(o.enabled !== undefined ? { enabled: o.enabled } : {}),
        },
      });
      await emitIdentityEvent(tx, 'user', 'updated', r.id, { name: r.name, enabled: r.enabled });
      return r;
    }),
  );
  if ((before.enabled && !row.enabled) || passwordHash) await revokeUserTokens([{ userId: row.id }]);
  return toUser(row);
}

export async function deleteUser(ctx: AuthContext, input: { userId: string }): Promise<void> {
  enforce(ctx, 'identity:delete_user', { user_id: input.userId });
  const row = await db().user.findUnique({ where: { id: input.userId } });
  if (!row) throw notFound(`Could not find user: ${input.userId}.`);
  await db().$transaction(async (tx) => {
    await tx.roleAssignment.deleteMany({ where: { actorType: 'user', actorId: row.id } });
    await tx.user.delete({ where: { id: row.id } });
    await emitIdentityEvent(tx, 'user', 'deleted', row.id, { name: row.name });
  });
  await revokeUserTokens([{ userId: row.id }]);
}

/** A user changes their own password; every token they hold is revoked. */
export async function changePassword(ctx: AuthContext, input: z.input<typeof ChangePasswordInput>): Promise<void> {
  const o = ChangePasswordInput.parse(input);
  enforce(ctx, 'identity:change_password', { user_id: o.userId });
  const row = await db().user.findUnique({ where: { id: o.userId } });
  if (!row) throw notFound(`Could not find user: ${o.userId}.`);
  if (!(await verifyPassword(row.passwordHash, o.originalPassword))) throw unauthorized('Invalid original password.');
  await db().user.update({
    where: { id: row.id },
    data: {
      passwordHash: await hashPassword(o.password),
      passwordChangedAt: new Date(),
      failedAttempts: 0,
      lockedUntil: null,
    },
  });
  await revokeUserTokens([{ userId: row.id }]);
}

/** GET /v3/users/{id}/projects: projects the user has a role on (directly or through groups). */
export async function listProjectsForUser(ctx: AuthContext, input: { userId: string }): Promise<Project[]> {
  enforce(ctx, 'identity:list_user_projects', { user_id: input.userId });
  if (!(await db().user.findUnique({ where: { id: input.userId } })))
    throw notFound(`Could not find user: ${input.userId}.`);
  const groups = (await db().groupMembership.findMany({ where: { userId: input.userId } })).map((g) => g.groupId);
  const rows = await db().roleAssignment.findMany({
    where: {
      targetType: 'project',
      OR: [
        { actorType: 'user', actorId: input.userId },
        ...(groups.length ? [{ actorType: 'group', actorId: { in: groups } }] : []),
      ],
    },
    select: { targetId: true },
    distinct: ['targetId'],
  });
  const projects = await db().project.findMany({
    where: { id: { in: rows.map((r) => r.targetId) } },
    orderBy: { name: 'asc' },
  });
  return projects.map(toProject);
}

export async function listGroupsForUser(ctx: AuthContext, input: { userId: string }): Promise<Group[]> {
  enforce(ctx, 'identity:list_groups_for_user', { user_id: input.userId });
  if (!(await db().user.findUnique({ where: { id: input.userId } })))
    throw notFound(`Could not find user: ${input.userId}.`);
  const rows = await db().groupMembership.findMany({ where: { userId: input.userId }, include: { group: true } });
  return rows.map((r) => toGroup(r.group)).sort((a, b) => a.name.localeCompare(b.name));
}
