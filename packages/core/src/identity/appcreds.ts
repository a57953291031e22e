import { randomBytes } from 'node:crypto';
import type * as P from '@stratus/db';
import { z } from 'zod';
import { badRequest, forbidden, notFound } from '../platform/errors.ts';
import { enforce } from '../policy/index.ts';
import { effectiveRoles, revokeUserTokens } from './auth.ts';
import { hashPassword } from './password.ts';
import { db, mapDbErrors, newId } from './store.ts';
import { AccessRule, type ApplicationCredential, type AuthContext } from './types.ts';

export const CreateApplicationCredentialInput = z.object({
  userId: z.string().min(1),
  name: z.string().trim().min(1).max(255),
  description: z.string().max(4096).nullish(),
  /** Chosen by the user, else generated and returned once. */
  secret: z.string().min(8).max(4096).nullish(),
  expiresAt: z.coerce.date().nullish(),
  roles: z.array(z.object({ id: z.string().optional(), name: z.string().optional() })).optional(),
  unrestricted: z.boolean().optional(),
  accessRules: z.array(AccessRule).nullish(),
});

async function shape(row: P.ApplicationCredential, secret?: string): Promise<ApplicationCredential> {
  const roles = await db().role.findMany({ where: { id: { in: row.roleIds } }, orderBy: { name: 'asc' } });
  const rules = z
    .array(AccessRule)
    .nullable()
    .catch(null)
    .parse(row.accessRules ?? null);
  return {
    id: row.id,
    name: row.name,
    userId: row.userId,
    projectId: row.projectId,
    description: row.description,
    expiresAt: row.expiresAt,
    unrestricted: row.unrestricted,
    roles: roles.map((r) => ({ id: r.id, name: r.name })),
    accessRules: rules,
    ...(secret ? { secret } : {}),
  };
}

export async function listApplicationCredentials(
  ctx: AuthContext,
  input: { userId: string; name?: string },
): Promise<ApplicationCredential[]> {
  enforce(ctx, 'identity:list_application_credentials', { user_id: input.userId });
  const rows = await db().applicationCredential.findMany({
    where: { userId: input.userId, ...(input.name ? { name: input.name } : {}) },
    orderBy: { name: 'asc' },
  });
  return Promise.all(rows.map((r) => shape(r)));
}

export async function getApplicationCredential(
  ctx: AuthContext,
  input: { userId: string; applicationCredentialId: string },
): Promise<ApplicationCredential> {
  enforce(ctx, 'identity:get_application_credential', { user_id: input.userId });
  const row = await db().applicationCredential.findUnique({ where: { id: input.applicationCredentialId } });
  if (!row || row.userId !== input.userId)
    throw notFound(`Could not find application credential: ${input.applicationCredentialId}.`);
  return shape(row);
}

/** Delegates (a subset of) the caller's roles on the token's project. */
export async function createApplicationCredential(
  ctx: AuthContext,
  input: z.input<typeof CreateApplicationCredentialInput>,
): Promise<ApplicationCredential> {
  const o = CreateApplicationCredentialInput.parse(input);
  enforce(ctx, 'identity:create_application_credential', { user_id: o.userId });
  if (!ctx.projectId) throw badRequest('An application credential is created from a project-scoped token.');
  if (ctx.methods.includes('application_credential'))
    throw forbidden('An application credential cannot create another one.');
  if (o.expiresAt && o.expiresAt.getTime() <= Date.now()) throw badRequest('expires_at must be in the future.');
  const held = await effectiveRoles(ctx.userId, { type: 'project', id: ctx.projectId });
  let roleIds: string[];
  if (o.roles && o.roles.length > 0) {
    roleIds = [];
    for (const want of o.roles) {
      const r = held.find((h) => (want.id ? h.id === want.id : h.name === want.name));
      if (!r)
        throw forbidden(`You cannot delegate role ${want.id ?? want.name ?? '?'}: you do not hold it on this project.`);
      roleIds.push(r.id);
    }
  } else roleIds = held.map((r) => r.id);
  const secret = o.secret ?? randomBytes(48).toString('base64url');
  const row = await mapDbErrors('application credential', async () =>
    db().applicationCredential.create({
      data: {
        id: newId(),
        name: o.name,
        userId: o.userId,
        projectId: ctx.projectId ?? '',
        secretHash: await hashPassword(secret),
        description: o.description ?? '',
        expiresAt: o.expiresAt ?? null,
        unrestricted: o.unrestricted ?? false,
        roleIds,
        ...(o.accessRules ? { accessRules: o.accessRules.map((r) => ({ ...r, id: r.id ?? newId() })) } : {}),
      },
    }),
  );
  return shape(row, secret);
}

export async function deleteApplicationCredential(
  ctx: AuthContext,
  input: { userId: string; applicationCredentialId: string },
): Promise<void> {
  enforce(ctx, 'identity:delete_application_credential', { user_id: input.userId });
  const row = await db().applicationCredential.findUnique({ where: { id: input.applicationCredentialId } });
  if (!row || row.userId !== input.userId)
    throw notFound(`Could not find application credential: ${input.applicationCredentialId}.`);
  await db().applicationCredential.delete({ where: { id: row.id } });
  await revokeUserTokens([{ appCredId: row.id }]);
}
