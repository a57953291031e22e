import type { Tx } from '@stratus/db';
import type { z } from 'zod';
import { badRequest } from '../platform/errors.ts';
import { authorize, bumpGeneration, db, findProvider, normalizeUuid } from './store.ts';
import {
  CUSTOM_NAME,
  type Caller,
  type Inventory,
  InventoryInput,
  isStandardResourceClass,
  placementError,
} from './types.ts';

export interface ProviderInventories {
  resourceProviderGeneration: number;
  inventories: Record<string, Inventory>;
}

const toInventory = (r: Inventory): Inventory => ({
  total: r.total,
  reserved: r.reserved,
  minUnit: r.minUnit,
  maxUnit: r.maxUnit,
  stepSize: r.stepSize,
  allocationRatio: r.allocationRatio,
});

/** Standard classes, and CUSTOM_* ones (registered on first use, as `PUT /resource_classes/CUSTOM_X` would). */
async function checkResourceClasses(tx: Tx, classes: string[]): Promise<void> {
  for (const rc of classes) {
    if (isStandardResourceClass(rc)) continue;
    if (!CUSTOM_NAME.test(rc))
      throw badRequest(`Unknown resource class in inventory: ${rc}. Custom resource classes must start with CUSTOM_.`);
    await tx.placementResourceClass.upsert({ where: { name: rc }, create: { name: rc }, update: {} });
  }
}

async function read(tx: Pick<Tx, 'placementInventory'>, providerId: string): Promise<Record<string, Inventory>> {
  const rows = await tx.placementInventory.findMany({ where: { providerId }, orderBy: { resourceClass: 'asc' } });
  return Object.fromEntries(rows.map((r) => [r.resourceClass, toInventory(r)]));
}

async function inUse(tx: Tx, providerId: string, classes: string[]): Promise<string[]> {
  if (classes.length === 0) return [];
  const rows = await tx.placementAllocation.groupBy({
    by: ['resourceClass'],
    where: { providerId, resourceClass: { in: classes } },
  });
  return rows.map((r) => r.resourceClass);
}

export async function getInventories(caller: Caller, uuid: string): Promise<ProviderInventories> {
  authorize(caller, 'placement:resource_providers:inventories:list');
  const id = normalizeUuid(uuid);
  return db().$transaction(async (tx) => {
    const rp = await findProvider(tx, id);
    return { resourceProviderGeneration: rp.generation, inventories: await read(tx, id) };
  });
}

export async function getInventory(
  caller: Caller,
  uuid: string,
  resourceClass: string,
): Promise<Inventory & { resourceProviderGeneration: number }> {
  authorize(caller, 'placement:resource_providers:inventories:show');
  const all = await getInventories('service', uuid);
  const inv = all.inventories[resourceClass];
  if (!inv) throw placementError('NotFound', `No inventory of class ${resourceClass} for ${normalizeUuid(uuid)}`);
  return { ...inv, resourceProviderGeneration: all.resourceProviderGeneration };
}

/** Replaces all of a provider's inventories (compare-and-swap on the provider generation). */
export async function setInventories(
  caller: Caller,
  uuid: string,
  input: { resourceProviderGeneration: number; inventories: Record<string, InventoryInput> },
): Promise<ProviderInventories> {
  authorize(caller, 'placement:resource_providers:inventories:update');
  const id = normalizeUuid(uuid);
  const inventories = Object.entries(input.inventories).map(([rc, inv]) => [rc, parseInventory(rc, inv)] as const);
  return db().$transaction(async (tx) => {
    const generation = await bumpGeneration(tx, id, input.resourceProviderGeneration);
    await checkResourceClasses(
      tx,
      inventories.map(([rc]) => rc),
    );
    const current = await read(tx, id);
    const removed = Object.keys(current).filter((rc) => !inventories.some(([n]) => n === rc));
    const busy = await inUse(tx, id, removed);
    if (busy.length) {
      throw placementError(
        'Conflict',
        `update conflict: Inventory for '${busy.join(', ')}' on resource provider '${id}' in use.`,
        'placement.inventory.inuse',
      );
    }
    await tx.placementInventory.deleteMany({ where: { providerId: id, resourceClass: { in: removed } } });
    for (const [rc, inv] of inventories) {
      await tx.placementInventory.upsert({
        where: { providerId_resourceClass: { providerId: id, resourceClass: rc } },
        create: { providerId: id, resourceClass: rc, ...inv },
        update: inv,
      });
    }
    return { resourceProviderGeneration: generation, inventories: await read(tx, id) };
  });
}

/** Creates or replaces one inventory (PUT /inventories/{rc}; `mustNotExist` for POST). */
export async function setInventory(
  caller: Caller,
  uuid: string,
  resourceClass: string,
  input: InventoryInput & { resourceProviderGeneration: number },
  opts: { mustNotExist?: boolean; mustExist?: boolean } = {},
): Promise<Inventory & { resourceProviderGeneration: number }> {
  authorize(
    caller,
    opts.mustNotExist
      ? 'placement:resource_providers:inventories:create'
      : 'placement:resource_providers:inventories:update',
  );
  const id = normalizeUuid(uuid);
  const { resourceProviderGeneration, ...rest } = input;
  const inv = parseInventory(resourceClass, rest);
  return db().$transaction(async (tx) => {
    const generation = await bumpGeneration(tx, id, resourceProviderGeneration);
    await checkResourceClasses(tx, [resourceClass]);
    const exists = await tx.placementInventory.findUnique({
      where: { providerId_resourceClass: { providerId: id, resourceClass } },
    });
    if (exists && opts.mustNotExist)
      throw placementError('Conflict', `Inventory for ${resourceClass} on resource provider ${id} already exists.`);
    if (!exists && opts.mustExist)
      throw badRequest(`No inventory record with resource class for resource provider ${id}`);
    await tx.placementInventory.upsert({
      where: { providerId_resourceClass: { providerId: id, resourceClass } },
      create: { providerId: id, resourceClass, ...inv },
      update: inv,
    });
    return { ...inv, resourceProviderGeneration: generation };
  });
}

/** Deletes one inventory (or all when resourceClass is undefined); Conflict while allocations use it. */
export async function deleteInventory(
  caller: Caller,
  uuid: string,
  resourceClass?: string,
  resourceProviderGeneration?: number,
): Promise<number> {
  authorize(caller, 'placement:resource_providers:inventories:delete');
  const id = normalizeUuid(uuid);
  return db().$transaction(async (tx) => {
    const generation = await bumpGeneration(tx, id, resourceProviderGeneration);
    const classes = resourceClass ? [resourceClass] : Object.keys(await read(tx, id));
    if (
      resourceClass &&
      !(await tx.placementInventory.findUnique({
        where: { providerId_resourceClass: { providerId: id, resourceClass } },
      }))
    ) {
      throw placementError('NotFound', `No inventory of class ${resourceClass} found for delete`);
    }
    const busy = await inUse(tx, id, classes);
    if (busy.length) {
      throw placementError(
        'Conflict',
        `Inventory for '${busy.join(', ')}' on resource provider '${id}' in use.`,
        'placement.inventory.inuse',
      );
    }
    await tx.placementInventory.deleteMany({ where: { providerId: id, resourceClass: { in: classes } } });
    return generation;
  });
}

function parseInventory(rc: string, inv: InventoryInput): z.output<typeof InventoryInput> {
  const r = InventoryInput.safeParse(inv);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw badRequest(
      `Unable to update inventory for resource class ${rc}: ${issue?.path.join('.') || 'inventory'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return r.data;
}
