import { randomUUID } from 'node:crypto';
import { Prisma } from '@stratus/db';
import { z } from 'zod';
import { badRequest } from '../platform/errors.ts';
import {
  authorize,
  db,
  findProvider,
  normalizeUuid,
  providerFilters,
  type ProviderRow,
  toProvider,
  whereClause,
} from './store.ts';
import { placementError, Resources, type Caller, type ResourceProvider } from './types.ts';

const Name = z.string().min(1).max(200);
const Uuid = z.string().uuid().transform(normalizeUuid);

export const CreateProviderInput = z.object({
  uuid: Uuid.optional(),
  name: Name,
  parentProviderUuid: Uuid.nullable().optional(),
});
export const UpdateProviderInput = z.object({
  name: Name,
  parentProviderUuid: Uuid.nullable().optional(),
});
export const ListProvidersInput = z.object({
  name: z.string().optional(),
  uuid: z.string().optional(),
  memberOf: z.array(z.array(Uuid)).optional(),
  resources: Resources.optional(),
  requiredTraits: z.array(z.string()).optional(),
  forbiddenTraits: z.array(z.string()).optional(),
  inTree: Uuid.optional(),
});

const duplicate = (e: unknown): boolean => e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2002';
const SELECT = Prisma.sql`SELECT rp.id::text, rp.name, rp.generation, rp."parentId"::text AS "parentId", rp."rootId"::text AS "rootId" FROM "ResourceProvider" rp`;

export async function listResourceProviders(
  caller: Caller,
  input: z.input<typeof ListProvidersInput> = {},
): Promise<ResourceProvider[]> {
  authorize(caller, 'placement:resource_providers:list');
  const q = ListProvidersInput.parse(input);
  const where = providerFilters({
    resources: q.resources ?? {},
    requiredTraits: q.requiredTraits,
    forbiddenTraits: q.forbiddenTraits,
    memberOf: q.memberOf,
    inTree: q.inTree,
  });
  if (q.name !== undefined) where.push(Prisma.sql`rp.name = ${q.name}`);
  if (q.uuid !== undefined) {
    if (!z.string().uuid().safeParse(q.uuid).success) return [];
    where.push(Prisma.sql`rp.id = ${normalizeUuid(q.uuid)}::uuid`);
  }
  const rows = await db().$queryRaw<ProviderRow[]>`${SELECT} ${whereClause(where)} ORDER BY rp.name, rp.id`;
  return rows.map(toProvider);
}

export async function getResourceProvider(caller: Caller, uuid: string): Promise<ResourceProvider> {
  authorize(caller, 'placement:resource_providers:show');
  if (!z.string().uuid().safeParse(uuid).success)
    throw placementError(
      'NotFound',
      `No resource provider with uuid ${uuid} found.`,
      'placement.resource_provider.not_found',
    );
  return toProvider(await findProvider(db(), normalizeUuid(uuid)));
}

export async function createResourceProvider(
  caller: Caller,
  input: z.input<typeof CreateProviderInput>,
): Promise<ResourceProvider> {
  authorize(caller, 'placement:resource_providers:create');
  const q = CreateProviderInput.parse(input);
  const id = q.uuid ?? randomUUID();
  try {
    return await db().$transaction(async (tx) => {
      let rootId = id;
      if (q.parentProviderUuid) {
        const parent = await tx.resourceProvider.findUnique({ where: { id: q.parentProviderUuid } });
        if (!parent) throw badRequest(`The parent resource provider ${q.parentProviderUuid} does not exist.`);
        rootId = parent.rootId;
      }
      if (await tx.resourceProvider.findUnique({ where: { id } })) {
        throw placementError(
          'Conflict',
          `Conflicting resource provider uuid: ${id} already exists.`,
          'placement.duplicate_name',
        );
      }
      const r = await tx.resourceProvider.create({
        data: { id, name: q.name, parentId: q.parentProviderUuid ?? null, rootId },
      });
      return toProvider(r);
    });
  } catch (e) {
    if (duplicate(e))
      throw placementError(
        'Conflict',
        `Conflicting resource provider name: ${q.name} already exists.`,
        'placement.duplicate_name',
      );
    throw e;
  }
}

export async function updateResourceProvider(
  caller: Caller,
  uuid: string,
  input: z.input<typeof UpdateProviderInput>,
): Promise<ResourceProvider> {
  authorize(caller, 'placement:resource_providers:update');
  const q = UpdateProviderInput.parse(input);
  const id = normalizeUuid(uuid);
  try {
    return await db().$transaction(async (tx) => {
      const cur = await findProvider(tx, id, true);
      let parentId = cur.parentId;
      let rootId = cur.rootId;
      if (q.parentProviderUuid !== undefined && q.parentProviderUuid !== cur.parentId) {
        // Placement before 1.37 lets a root provider get a parent, nothing else.
        if (cur.parentId !== null) throw badRequest('re-parenting a provider is not currently allowed.');
        if (q.parentProviderUuid === null) throw badRequest('un-parenting a provider is not currently allowed.');
        const parent = await tx.resourceProvider.findUnique({ where: { id: q.parentProviderUuid } });
        if (!parent) throw badRequest(`The parent resource provider ${q.parentProviderUuid} does not exist.`);
        if (parent.rootId === cur.id) throw badRequest('creating a loop in the provider tree is not allowed.');
        parentId = parent.id;
        rootId = parent.rootId;
        await tx.resourceProvider.updateMany({ where: { rootId: cur.id }, data: { rootId } });
      }
      const r = await tx.resourceProvider.update({ where: { id }, data: { name: q.name, parentId, rootId } });
      return toProvider(r);
    });
  } catch (e) {
    if (duplicate(e))
      throw placementError(
        'Conflict',
        `Conflicting resource provider name: ${q.name} already exists.`,
        'placement.duplicate_name',
      );
    throw e;
  }
}

export async function deleteResourceProvider(caller: Caller, uuid: string): Promise<void> {
  authorize(caller, 'placement:resource_providers:delete');
  const id = normalizeUuid(uuid);
  await db().$transaction(async (tx) => {
    await findProvider(tx, id, true);
    if (await tx.resourceProvider.findFirst({ where: { parentId: id }, select: { id: true } })) {
      throw placementError(
        'Conflict',
        `Unable to delete parent resource provider ${id}: It has child resource providers.`,
        'placement.resource_provider.cannot_delete_parent',
      );
    }
    if (await tx.placementAllocation.findFirst({ where: { providerId: id }, select: { consumerId: true } })) {
      throw placementError(
        'Conflict',
        `Unable to delete resource provider ${id}: Resource provider has allocations.`,
        'placement.resource_provider.inuse',
      );
    }
    await tx.resourceProvider.delete({ where: { id } });
  });
}
