import type { Tx } from '@stratus/db';
import { badRequest } from '../platform/errors.ts';
import { authorize, bumpGeneration, db, findProvider, normalizeUuid } from './store.ts';
import {
  type Caller,
  CUSTOM_NAME,
  isStandardResourceClass,
  isStandardTrait,
  placementError,
  RESOURCE_CLASS_NAME,
  STANDARD_RESOURCE_CLASSES,
  STANDARD_TRAITS,
} from './types.ts';

// ---------------------------------------------------------------- traits

export async function listTraits(
  caller: Caller,
  q: { startsWith?: string; in?: string[]; associated?: boolean } = {},
): Promise<string[]> {
  authorize(caller, 'placement:traits:list');
  const custom = await db().placementTrait.findMany({ select: { name: true } });
  let names = [...new Set([...STANDARD_TRAITS, ...custom.map((t) => t.name)])];
  if (q.startsWith !== undefined) names = names.filter((n) => n.startsWith(q.startsWith ?? ''));
  if (q.in !== undefined) names = names.filter((n) => q.in?.includes(n));
  if (q.associated !== undefined) {
    const used = new Set(
      (await db().resourceProviderTrait.findMany({ distinct: ['trait'], select: { trait: true } })).map((r) => r.trait),
    );
    names = names.filter((n) => used.has(n) === q.associated);
  }
  return names.sort();
}

async function traitExists(name: string): Promise<boolean> {
  return isStandardTrait(name) || (await db().placementTrait.findUnique({ where: { name } })) !== null;
}

export async function getTrait(caller: Caller, name: string): Promise<void> {
  authorize(caller, 'placement:traits:show');
  if (!(await traitExists(name))) throw placementError('NotFound', `No such trait(s): ${name}.`);
}

/** Creates a custom trait; 'exists' when it already did. */
export async function createTrait(caller: Caller, name: string): Promise<'created' | 'exists'> {
  authorize(caller, 'placement:traits:update');
  if (isStandardTrait(name)) return 'exists';
  if (!CUSTOM_NAME.test(name) || name.length > 255)
    throw badRequest(
      `The trait is invalid. A valid trait must be no longer than 255 characters, start with the prefix "CUSTOM_" and use following characters: "A"-"Z", "0"-"9" and "_"`,
    );
  const r = await db().placementTrait.createMany({ data: [{ name }], skipDuplicates: true });
  return r.count === 1 ? 'created' : 'exists';
}

export async function deleteTrait(caller: Caller, name: string): Promise<void> {
  authorize(caller, 'placement:traits:delete');
  if (isStandardTrait(name)) throw badRequest(`Cannot delete standard trait ${name}.`);
  await db().$transaction(async (tx) => {
    if (!(await tx.placementTrait.findUnique({ where: { name } })))
      throw placementError('NotFound', `No such trait(s): ${name}.`);
    if (await tx.resourceProviderTrait.findFirst({ where: { trait: name } })) {
      throw placementError('Conflict', `The trait ${name} is in use by a resource provider.`);
    }
    await tx.placementTrait.delete({ where: { name } });
  });
}

export async function getProviderTraits(
  caller: Caller,
  uuid: string,
): Promise<{ resourceProviderGeneration: number; traits: string[] }> {
  authorize(caller, 'placement:resource_providers:traits:list');
  const id = normalizeUuid(uuid);
  return db().$transaction(async (tx) => {
    const rp = await findProvider(tx, id);
    const rows = await tx.resourceProviderTrait.findMany({ where: { providerId: id }, orderBy: { trait: 'asc' } });
    return { resourceProviderGeneration: rp.generation, traits: rows.map((r) => r.trait) };
  });
}

/** Replaces a provider's traits (compare-and-swap on its generation). */
export async function setProviderTraits(
  caller: Caller,
  uuid: string,
  input: { resourceProviderGeneration: number; traits: string[] },
): Promise<{ resourceProviderGeneration: number; traits: string[] }> {
  authorize(caller, 'placement:resource_providers:traits:update');
  const id = normalizeUuid(uuid);
  const traits = [...new Set(input.traits)].sort();
  const missing: string[] = [];
  for (const t of traits) if (!(await traitExists(t))) missing.push(t);
  if (missing.length) throw badRequest(`No such trait(s): ${missing.join(', ')}`);
  return db().$transaction(async (tx) => {
    const generation = await bumpGeneration(tx, id, input.resourceProviderGeneration);
    await tx.resourceProviderTrait.deleteMany({ where: { providerId: id } });
    await tx.resourceProviderTrait.createMany({ data: traits.map((trait) => ({ providerId: id, trait })) });
    return { resourceProviderGeneration: generation, traits };
  });
}

export async function deleteProviderTraits(caller: Caller, uuid: string): Promise<void> {
  authorize(caller, 'placement:resource_providers:traits:delete');
  const id = normalizeUuid(uuid);
  await db().$transaction(async (tx) => {
    await bumpGeneration(tx, id, undefined);
    await tx.resourceProviderTrait.deleteMany({ where: { providerId: id } });
  });
}

// ---------------------------------------------------------------- aggregates

export async function getProviderAggregates(
  caller: Caller,
  uuid: string,
): Promise<{ resourceProviderGeneration: number; aggregates: string[] }> {
  authorize(caller, 'placement:resource_providers:aggregates:list');
  const id = normalizeUuid(uuid);
  return db().$transaction(async (tx) => {
    const rp = await findProvider(tx, id);
    const rows = await tx.resourceProviderAggregate.findMany({
      where: { providerId: id },
      orderBy: { aggregateUuid: 'asc' },
    });
    return { resourceProviderGeneration: rp.generation, aggregates: rows.map((r) => r.aggregateUuid) };
  });
}

/** Replaces a provider's aggregates; the generation check is optional (placement < 1.19 has none). */
export async function setProviderAggregates(
  caller: Caller,
  uuid: string,
  input: { resourceProviderGeneration?: number; aggregates: string[] },
): Promise<{ resourceProviderGeneration: number; aggregates: string[] }> {
  authorize(caller, 'placement:resource_providers:aggregates:update');
  const id = normalizeUuid(uuid);
  const aggregates = [...new Set(input.aggregates.map(normalizeUuid))].sort();
  return db().$transaction(async (tx) => {
    const generation = await bumpGeneration(tx, id, input.resourceProviderGeneration);
    await tx.resourceProviderAggregate.deleteMany({ where: { providerId: id } });
    await tx.resourceProviderAggregate.createMany({
      data: aggregates.map((aggregateUuid) => ({ providerId: id, aggregateUuid })),
    });
    return { resourceProviderGeneration: generation, aggregates };
  });
}

/**
 * Adds a provider to (or removes it from) one placement aggregate inside the caller's
 * transaction, bumping its generation as every provider change does (compute mirrors
 * Nova host aggregates this way, as Nova does). A no-op for unknown providers.
 */
export async function setProviderAggregateMembershipInTx(
  tx: Tx,
  providerId: string,
  aggregateUuid: string,
  member: boolean,
): Promise<void> {
  const bumped = await tx.$executeRaw`
    UPDATE "ResourceProvider" SET generation = generation + 1, "updatedAt" = now() WHERE id = ${providerId}::uuid`;
  if (bumped === 0) return;
  if (member) {
    await tx.$executeRaw`
      INSERT INTO "ResourceProviderAggregate" ("providerId", "aggregateUuid")
      VALUES (${providerId}::uuid, ${aggregateUuid}::uuid) ON CONFLICT DO NOTHING`;
  } else {
    await tx.$executeRaw`
      DELETE FROM "ResourceProviderAggregate" WHERE "providerId" = ${providerId}::uuid AND "aggregateUuid" = ${aggregateUuid}::uuid`;
  }
}

// ---------------------------------------------------------------- resource classes

export async function listResourceClasses(caller: Caller): Promise<string[]> {
  authorize(caller, 'placement:resource_classes:list');
  const custom = await db().placementResourceClass.findMany({ select: { name: true }, orderBy: { name: 'asc' } });
  return [...STANDARD_RESOURCE_CLASSES, ...custom.map((c) => c.name)];
}

export async function getResourceClass(caller: Caller, name: string): Promise<void> {
  authorize(caller, 'placement:resource_classes:show');
  if (isStandardResourceClass(name)) return;
  if (!(await db().placementResourceClass.findUnique({ where: { name } })))
    throw placementError('NotFound', `No such resource class ${name}.`);
}

export async function createResourceClass(caller: Caller, name: string): Promise<'created' | 'exists'> {
  authorize(caller, 'placement:resource_classes:update');
  if (isStandardResourceClass(name)) return 'exists';
  if (!CUSTOM_NAME.test(name) || !RESOURCE_CLASS_NAME.test(name) || name.length > 255) {
    throw badRequest(
      `Invalid resource class name ${name}: custom resource classes must start with CUSTOM_ and use A-Z, 0-9 and _.`,
    );
  }
  const r = await db().placementResourceClass.createMany({ data: [{ name }], skipDuplicates: true });
  return r.count === 1 ? 'created' : 'exists';
}

export async function deleteResourceClass(caller: Caller, name: string): Promise<void> {
  authorize(caller, 'placement:resource_classes:delete');
  if (isStandardResourceClass(name)) throw badRequest(`Cannot delete standard resource class ${name}.`);
  await db().$transaction(async (tx) => {
    if (!(await tx.placementResourceClass.findUnique({ where: { name } })))
      throw placementError('NotFound', `No such resource class ${name}.`);
    if (await tx.placementInventory.findFirst({ where: { resourceClass: name } })) {
      throw placementError('Conflict', `Unable to delete resource class ${name}. Class is in use in inventory.`);
    }
    await tx.placementResourceClass.delete({ where: { name } });
  });
}
