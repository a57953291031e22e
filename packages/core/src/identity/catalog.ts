import type { Tx } from '@stratus/db';
import { z } from 'zod';
import { badRequest, conflict, notFound } from '../platform/errors.ts';
import { enforce } from '../policy/index.ts';
import { clearCatalogCache } from './auth.ts';
import { emitCatalogChanged } from './events.ts';
import { db, mapDbErrors, newId, page, pageArgs } from './store.ts';
import { type AuthContext, type CatalogService, type Endpoint, ListOptions, type Page, type Region } from './types.ts';

/**
 * A catalog write and its event in one transaction: every process drops its cached
 * catalogs when it commits (this one at once, without waiting for its own NOTIFY).
 */
async function changeCatalog<T>(write: (tx: Tx) => Promise<T>): Promise<T> {
  const out = await db().$transaction(async (tx) => {
    const r = await write(tx);
    await emitCatalogChanged(tx);
    return r;
  });
  clearCatalogCache();
  return out;
}

// ---------------------------------------------------------------- regions

export const CreateRegionInput = z.object({
  id: z.string().trim().min(1).max(255).optional(),
  description: z.string().max(4096).nullish(),
  parentRegionId: z.string().min(1).nullish(),
});
export const UpdateRegionInput = z.object({
  regionId: z.string().min(1),
  description: z.string().max(4096).nullish(),
  parentRegionId: z.string().min(1).nullish(),
});

const toRegion = (r: { id: string; description: string; parentRegionId: string | null }): Region => ({
  id: r.id,
  description: r.description,
  parentRegionId: r.parentRegionId,
});

export async function listRegions(
  ctx: AuthContext,
  input: z.input<typeof ListOptions> & { parentRegionId?: string } = {},
): Promise<Page<Region>> {
  enforce(ctx, 'identity:list_regions');
  const o = ListOptions.parse(input);
  const p = pageArgs(o);
  const rows = await db().region.findMany({
    ...p,
    where: { ...p.where, ...(input.parentRegionId ? { parentRegionId: input.parentRegionId } : {}) },
  });
  const out = page(rows, o.limit);
  return { items: out.items.map(toRegion), next: out.next };
}

export async function getRegion(ctx: AuthContext, input: { regionId: string }): Promise<Region> {
  enforce(ctx, 'identity:get_region');
  const r = await db().region.findUnique({ where: { id: input.regionId } });
  if (!r) throw notFound(`Could not find region: ${input.regionId}.`);
  return toRegion(r);
}

async function checkParent(id: string | null | undefined): Promise<void> {
  if (id && !(await db().region.findUnique({ where: { id } })))
    throw badRequest(`Could not find parent region: ${id}.`);
}

export async function createRegion(ctx: AuthContext, input: z.input<typeof CreateRegionInput>): Promise<Region> {
  const o = CreateRegionInput.parse(input);
  enforce(ctx, 'identity:create_region');
  await checkParent(o.parentRegionId);
  const r = await mapDbErrors('region', () =>
    db().region.create({
      data: { id: o.id ?? newId(), description: o.description ?? '', parentRegionId: o.parentRegionId ?? null },
    }),
  );
  // A region without endpoints does not change any catalog.
  return toRegion(r);
}

export async function updateRegion(ctx: AuthContext, input: z.input<typeof UpdateRegionInput>): Promise<Region> {
  const o = UpdateRegionInput.parse(input);
  enforce(ctx, 'identity:update_region');
  await checkParent(o.parentRegionId);
  if (o.parentRegionId === o.regionId) throw badRequest('A region cannot be its own parent.');
  const r = await mapDbErrors(`region ${o.regionId}`, () =>
    changeCatalog((tx) =>
      tx.region.update({
        where: { id: o.regionId },
        data: {
          ...(o.description !== undefined ? { description: o.description ?? '' } : {}),
          ...(o.parentRegionId !== undefined ? { parentRegionId: o.parentRegionId } : {}),
        },
      }),
    ),
  );
  return toRegion(r);
}

export async function deleteRegion(ctx: AuthContext, input: { regionId: string }): Promise<void> {
  enforce(ctx, 'identity:delete_region');
  const r = await db().region.findUnique({ where: { id: input.regionId } });
  if (!r) throw notFound(`Could not find region: ${input.regionId}.`);
  if (
    (await db().endpoint.count({ where: { regionId: r.id } })) > 0 ||
    (await db().region.count({ where: { parentRegionId: r.id } })) > 0
  ) {
    throw conflict('Cannot delete a region that has endpoints or child regions.');
  }
  await changeCatalog((tx) => tx.region.delete({ where: { id: r.id } }));
}

// ---------------------------------------------------------------- services

export const CreateServiceInput = z.object({
  type: z.string().trim().min(1).max(255),
  name: z.string().trim().max(255).optional(),
  description: z.string().max(4096).nullish(),
  enabled: z.boolean().optional(),
});
export const UpdateServiceInput = CreateServiceInput.partial().extend({ serviceId: z.string().min(1) });

const toService = (s: {
  id: string;
  type: string;
  name: string;
  description: string;
  enabled: boolean;
}): CatalogService => ({
  id: s.id,
  type: s.type,
  name: s.name,
  description: s.description,
  enabled: s.enabled,
});

export async function listServices(
  ctx: AuthContext,
  input: z.input<typeof ListOptions> & { type?: string; name?: string } = {},
): Promise<Page<CatalogService>> {
  enforce(ctx, 'identity:list_services');
  const o = ListOptions.parse(input);
  const p = pageArgs(o);
  const rows = await db().catalogService.findMany({
    ...p,
    where: { ...p.where, ...(input.type ? { type: input.type } : {}), ...(input.name ? { name: input.name } : {}) },
  });
  const out = page(rows, o.limit);
  return { items: out.items.map(toService), next: out.next };
}

export async function getService(ctx: AuthContext, input: { serviceId: string }): Promise<CatalogService> {
  enforce(ctx, 'identity:get_service');
  const s = await db().catalogService.findUnique({ where: { id: input.serviceId } });
  if (!s) throw notFound(`Could not find service: ${input.serviceId}.`);
  return toService(s);
}

export async function createService(
  ctx: AuthContext,
  input: z.input<typeof CreateServiceInput>,
): Promise<CatalogService> {
  const o = CreateServiceInput.parse(input);
  enforce(ctx, 'identity:create_service');
  const s = await changeCatalog((tx) =>
    tx.catalogService.create({
      data: {
        id: newId(),
        type: o.type,
        name: o.name ?? '',
        description: o.description ?? '',
        enabled: o.enabled ?? true,
      },
    }),
  );
  return toService(s);
}

export async function updateService(
  ctx: AuthContext,
  input: z.input<typeof UpdateServiceInput>,
): Promise<CatalogService> {
  const o = UpdateServiceInput.parse(input);
  enforce(ctx, 'identity:update_service');
  const s = await mapDbErrors(`service ${o.serviceId}`, () =>
    changeCatalog((tx) =>
      tx.catalogService.update({
        where: { id: o.serviceId },
        data: {
          ...(o.type !== undefined ? { type: o.type } : {}),
          ...(o.name !== undefined ? { name: o.name } : {}),
          ...(o.description !== undefined ? { description: o.description ?? '' } : {}),
          ...(o.enabled !== undefined ? { enabled: o.enabled } : {}),
        },
      }),
    ),
  );
  return toService(s);
}

export async function deleteService(ctx: AuthContext, input: { serviceId: string }): Promise<void> {
  enforce(ctx, 'identity:delete_service');
  await mapDbErrors(`service ${input.serviceId}`, () =>
    changeCatalog((tx) => tx.catalogService.delete({ where: { id: input.serviceId } })),
  );
}

// ---------------------------------------------------------------- endpoints

const Interface = z.enum(['public', 'internal', 'admin']);
export const CreateEndpointInput = z.object({
  serviceId: z.string().min(1),
  regionId: z.string().min(1).nullish(),
  interface: Interface,
  url: z
    .string()
    .min(1)
    .max(1024)
    .regex(/^https?:\/\//, 'must be an http(s) URL'),
  enabled: z.boolean().optional(),
});
export const UpdateEndpointInput = CreateEndpointInput.partial().extend({ endpointId: z.string().min(1) });

const toEndpoint = (e: {
  id: string;
  serviceId: string;
  regionId: string | null;
  interface: string;
  url: string;
  enabled: boolean;
}): Endpoint => ({
  id: e.id,
  serviceId: e.serviceId,
  regionId: e.regionId,
  interface: Interface.catch('public').parse(e.interface),
  url: e.url,
  enabled: e.enabled,
});

export async function listEndpoints(
  ctx: AuthContext,
  input: z.input<typeof ListOptions> & { serviceId?: string; interface?: string; regionId?: string } = {},
): Promise<Page<Endpoint>> {
  enforce(ctx, 'identity:list_endpoints');
  const o = ListOptions.parse(input);
  const p = pageArgs(o);
  const rows = await db().endpoint.findMany({
    ...p,
    where: {
      ...p.where,
      ...(input.serviceId ? { serviceId: input.serviceId } : {}),
      ...(input.interface ? { interface: input.interface } : {}),
      ...(input.regionId ? { regionId: input.regionId } : {}),
    },
  });
  const out = page(rows, o.limit);
  return { items: out.items.map(toEndpoint), next: out.next };
}

export async function getEndpoint(ctx: AuthContext, input: { endpointId: string }): Promise<Endpoint> {
  enforce(ctx, 'identity:get_endpoint');
  const e = await db().endpoint.findUnique({ where: { id: input.endpointId } });
  if (!e) throw notFound(`Could not find endpoint: ${input.endpointId}.`);
  return toEndpoint(e);
}

async function checkEndpointRefs(o: { serviceId?: string; regionId?: string | null }): Promise<void> {
  if (o.serviceId && !(await db().catalogService.findUnique({ where: { id: o.serviceId } })))
    throw badRequest(`Could not find service: ${o.serviceId}.`);
  if (o.regionId && !(await db().region.findUnique({ where: { id: o.regionId } })))
    throw badRequest(`Could not find region: ${o.regionId}.`);
}

export async function createEndpoint(ctx: AuthContext, input: z.input<typeof CreateEndpointInput>): Promise<Endpoint> {
  const o = CreateEndpointInput.parse(input);
  enforce(ctx, 'identity:create_endpoint');
  await checkEndpointRefs(o);
  const e = await changeCatalog((tx) =>
    tx.endpoint.create({
      data: {
        id: newId(),
        serviceId: o.serviceId,
        regionId: o.regionId ?? null,
        interface: o.interface,
        url: o.url,
        enabled: o.enabled ?? true,
      },
    }),
  );
  return toEndpoint(e);
}

export async function updateEndpoint(ctx: AuthContext, input: z.input<typeof UpdateEndpointInput>): Promise<Endpoint> {
  const o = UpdateEndpointInput.parse(input);
  enforce(ctx, 'identity:update_endpoint');
  await checkEndpointRefs(o);
  const e = await mapDbErrors(`endpoint ${o.endpointId}`, () =>
    changeCatalog((tx) =>
      tx.endpoint.update({
        where: { id: o.endpointId },
        data: {
          ...(o.serviceId !== undefined ? { serviceId: o.serviceId } : {}),
          ...(o.regionId !== undefined ? { regionId: o.regionId } : {}),
          ...(o.interface !== undefined ? { interface: o.interface } : {}),
          ...(o.url !== undefined ? { url: o.url } : {}),
          ...(o.enabled !== undefined ? { enabled: o.enabled } : {}),
        },
      }),
    ),
  );
  return toEndpoint(e);
}

export async function deleteEndpoint(ctx: AuthContext, input: { endpointId: string }): Promise<void> {
  enforce(ctx, 'identity:delete_endpoint');
  await mapDbErrors(`endpoint ${input.endpointId}`, () =>
    changeCatalog((tx) => tx.endpoint.delete({ where: { id: input.endpointId } })),
  );
}
