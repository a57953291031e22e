import { z } from 'zod';
import { forbidden, notFound } from '../platform/errors.ts';
import { enforce } from '../policy/index.ts';
import { revokeUserTokens } from './auth.ts';
import { emitIdentityEvent, usersOfActors } from './events.ts';
import { BUILTIN_ROLES, db, mapDbErrors, nameWhere, newId, page, pageArgs, toRole } from './store.ts';
import { type AuthContext, NamedListOptions, type Page, type Role } from './types.ts';

export const CreateRoleInput = z.object({
  name: z.string().trim().min(1).max(255),
  description: z.string().max(4096).nullish(),
});
export const UpdateRoleInput = CreateRoleInput.partial().extend({ roleId: z.string().min(1) });
/** Roles are global here (no domain-specific roles): a `domainId` filter matches none. */
export const ListRolesInput = NamedListOptions.extend({ domainId: z.string().optional() });

const builtin = new Set<string>(BUILTIN_ROLES);

export async function listRoles(ctx: AuthContext, input: z.input<typeof ListRolesInput> = {}): Promise<Page<Role>> {
  const o = ListRolesInput.parse(input);
  enforce(ctx, 'identity:list_roles');
  if (o.domainId !== undefined) return { items: [], next: null };
  const p = pageArgs(o);
  const rows = await db().role.findMany({ ...p, where: { ...p.where, ...nameWhere(o) } });
  const out = page(rows, o.limit);
  return { items: out.items.map(toRole), next: out.next };
}

export async function getRole(ctx: AuthContext, input: { roleId: string }): Promise<Role> {
  enforce(ctx, 'identity:get_role');
  const row = await db().role.findUnique({ where: { id: input.roleId } });
  if (!row) throw notFound(`Could not find role: ${input.roleId}.`);
  return toRole(row);
}

export async function createRole(ctx: AuthContext, input: z.input<typeof CreateRoleInput>): Promise<Role> {
  const o = CreateRoleInput.parse(input);
  enforce(ctx, 'identity:create_role');
  const row = await mapDbErrors('role', () =>
    db().$transaction(async (tx) => {
      const r = await tx.role.create({ data: { id: newId(), name: o.name, description: o.description ?? '' } });
      await emitIdentityEvent(tx, 'role', 'created', r.id, { name: r.name });
      return r;
    }),
  );
  return toRole(row);
}

export async function updateRole(ctx: AuthContext, input: z.input<typeof UpdateRoleInput>): Promise<Role> {
  const o = UpdateRoleInput.parse(input);
  enforce(ctx, 'identity:update_role');
  const before = await db().role.findUnique({ where: { id: o.roleId } });
  if (!before) throw notFound(`Could not find role: ${o.roleId}.`);
  if (builtin.has(before.name) && o.name !== undefined && o.name !== before.name)
    throw forbidden(`The built-in role ${before.name} cannot be renamed.`);
  const row = await mapDbErrors('role', () =>
    db().$transaction(async (tx) => {
      const r = await tx.role.update({
        where: { id: o.roleId },
        data: {
          ...(o.name !== undefined ? { name: o.name } : {}),
          ...(o.description !== undefined ? { description: o.description ?? '' } : {}),
        },
      });
      await emitIdentityEvent(tx, 'role', 'updated', r.id, { name: r.name });
      return r;
    }),
  );
  return toRole(row);
}

export async function deleteRole(ctx: AuthContext, input: { roleId: string }): Promise<void> {
  enforce(ctx, 'identity:delete_role');
  const row = await db().role.findUnique({ where: { id: input.roleId } });
  if (!row) throw notFound(`Could not find role: ${input.roleId}.`);
  if (builtin.has(row.name)) throw forbidden(`The built-in role ${row.name} cannot be deleted.`);
  await db().$transaction(async (tx) => {
    // Its holders lose it everywhere: their own views change too.
    const holders = await usersOfActors(
      tx,
      await tx.roleAssignment.findMany({ where: { roleId: row.id }, select: { actorType: true, actorId: true } }),
    );
    await tx.role.delete({ where: { id: row.id } });
    await emitIdentityEvent(tx, 'role', 'deleted', row.id, { name: row.name });
    if (holders.length) await emitIdentityEvent(tx, 'role_assignment', 'deleted', row.id, { roleId: row.id }, holders);
  });
  await revokeUserTokens([{ roleId: row.id }]);
}
