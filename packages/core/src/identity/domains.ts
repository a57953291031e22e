import { z } from 'zod';
import { conflict, forbidden, notFound } from '../platform/errors.ts';
import { enforce } from '../policy/index.ts';
import { revokeUserTokens } from './auth.ts';
import { emitIdentityEvent } from './events.ts';
import { db, DEFAULT_DOMAIN_ID, mapDbErrors, nameWhere, newId, page, pageArgs, toDomain } from './store.ts';
import { type AuthContext, type Domain, NamedListOptions, type Page } from './types.ts';

export const CreateDomainInput = z.object({
  name: z.string().trim().min(1).max(64),
  description: z.string().max(4096).nullish(),
  enabled: z.boolean().optional(),
});
export const UpdateDomainInput = CreateDomainInput.partial().extend({ domainId: z.string().min(1) });
export const ListDomainsInput = NamedListOptions.extend({ enabled: z.boolean().optional() });

export async function listDomains(
  ctx: AuthContext,
  input: z.input<typeof ListDomainsInput> = {},
): Promise<Page<Domain>> {
  const o = ListDomainsInput.parse(input);
  enforce(ctx, 'identity:list_domains');
  const p = pageArgs(o);
  const rows = await db().domain.findMany({
    ...p,
    where: {
      ...p.where,
      ...nameWhere(o),
      ...(o.enabled !== undefined ? { enabled: o.enabled } : {}),
    },
  });
  const out = page(rows, o.limit);
  return { items: out.items.map(toDomain), next: out.next };
}

export async function getDomain(ctx: AuthContext, input: { domainId: string }): Promise<Domain> {
  enforce(ctx, 'identity:get_domain', { domain_id: input.domainId });
  const row = await db().domain.findUnique({ where: { id: input.domainId } });
  if (!row) throw notFound(`Could not find domain: ${input.domainId}.`);
  return toDomain(row);
}

export async function createDomain(ctx: AuthContext, input: z.input<typeof CreateDomainInput>): Promise<Domain> {
  const o = CreateDomainInput.parse(input);
  enforce(ctx, 'identity:create_domain');
  const row = await mapDbErrors('domain', () =>
    db().$transaction(async (tx) => {
      const r = await tx.domain.create({
        data: { id: newId(), name: o.name, description: o.description ?? '', enabled: o.enabled ?? true },
      });
      await emitIdentityEvent(tx, 'domain', 'created', r.id, { name: r.name });
      return r;
    }),
  );
  return toDomain(row);
}

export async function updateDomain(ctx: AuthContext, input: z.input<typeof UpdateDomainInput>): Promise<Domain> {
  const o = UpdateDomainInput.parse(input);
  enforce(ctx, 'identity:update_domain', { domain_id: o.domainId });
  const before = await db().domain.findUnique({ where: { id: o.domainId } });
  if (!before) throw notFound(`Could not find domain: ${o.domainId}.`);
  if (o.domainId === DEFAULT_DOMAIN_ID && o.enabled === false)
    throw forbidden('The default domain cannot be disabled.');
  const row = await mapDbErrors('domain', () =>
    db().$transaction(async (tx) => {
      const r = await tx.domain.update({
        where: { id: o.domainId },
        data: {
          ...(o.name !== undefined ? { name: o.name } : {}),
          ...(o.description !== undefined ? { description: o.description ?? '' } : {}),
          ...(o.enabled !== undefined ? { enabled: o.enabled } : {}),
        },
      });
      await emitIdentityEvent(tx, 'domain', 'updated', r.id, { name: r.name, enabled: r.enabled });
      return r;
    }),
  );
  if (before.enabled && !row.enabled) await revokeUserTokens([{ domainId: row.id }]);
  return toDomain(row);
}

export async function deleteDomain(ctx: AuthContext, input: { domainId: string }): Promise<void> {
  enforce(ctx, 'identity:delete_domain', { domain_id: input.domainId });
  const row = await db().domain.findUnique({ where: { id: input.domainId } });
  if (!row) throw notFound(`Could not find domain: ${input.domainId}.`);
  if (row.id === DEFAULT_DOMAIN_ID) throw forbidden('The default domain cannot be deleted.');
  if (row.enabled) throw forbidden('Cannot delete a domain that is enabled, please disable it first.');
  const [p, u, g] = await Promise.all([
    db().project.count({ where: { domainId: row.id } }),
    db().user.count({ where: { domainId: row.id } }),
    db().group.count({ where: { domainId: row.id } }),
  ]);
  if (p + u + g > 0) throw conflict('Cannot delete a domain that still has projects, users or groups.');
  await db().$transaction(async (tx) => {
    await tx.roleAssignment.deleteMany({ where: { targetType: 'domain', targetId: row.id } });
    await tx.domain.delete({ where: { id: row.id } });
    await emitIdentityEvent(tx, 'domain', 'deleted', row.id, { name: row.name });
  });
}
