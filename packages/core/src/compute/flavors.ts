import { randomUUID } from 'node:crypto';
import { Prisma, type Flavor as FlavorRow } from '@stratus/db';
import { z } from 'zod';
import type { AuthContext } from '../identity/types.ts';
import { badRequest, conflict, notFound } from '../platform/errors.ts';
import { markerPage } from '../platform/paging.ts';
import { can, enforce } from '../policy/index.ts';
import { db, isAdmin } from './common.ts';

export interface Flavor {
  id: string;
  name: string;
  description: string | null;
  vcpus: number;
  ramMb: number;
  diskGb: number;
  ephemeralGb: number;
  swapMb: number;
  rxtxFactor: number;
  isPublic: boolean;
  disabled: boolean;
  extraSpecs: Record<string, string>;
}

export const ExtraSpecs = z.record(z.string().min(1).max(255), z.string().max(255));

export function toFlavor(r: FlavorRow): Flavor {
  const specs = ExtraSpecs.safeParse(r.extraSpecs);
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    vcpus: r.vcpus,
    ramMb: r.ramMb,
    diskGb: r.diskGb,
    ephemeralGb: r.ephemeralGb,
    swapMb: r.swapMb,
    rxtxFactor: r.rxtxFactor,
    isPublic: r.isPublic,
    disabled: r.disabled,
    extraSpecs: specs.success ? specs.data : {},
  };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
const nameRe = /^(?! )[^\x00-\x1f]{1,255}(?<! )$/;
export const FlavorCreate = z.object({
  id: z
    .string()
    .regex(/^[A-Za-z0-9_.\- ]{1,255}$/, 'flavor id may contain letters, digits, _ . - and spaces')
    .nullish(),
  name: z.string().regex(nameRe, 'name must be 1-255 printable characters without leading or trailing spaces'),
  description: z.string().max(65535).nullish(),
  vcpus: z.coerce.number().int().min(1).max(2147483647),
  ramMb: z.coerce.number().int().min(1).max(2147483647),
  diskGb: z.coerce.number().int().min(0).max(2147483647),
  ephemeralGb: z.coerce.number().int().min(0).default(0),
  swapMb: z
    .union([z.literal(''), z.coerce.number().int().min(0)])
    .transform((v) => (v === '' ? 0 : v))
    .default(0),
  rxtxFactor: z.coerce.number().positive().default(1),
  isPublic: z.boolean().default(true),
});
export type FlavorCreate = z.input<typeof FlavorCreate>;

export async function createFlavor(ctx: AuthContext, input: FlavorCreate): Promise<Flavor> {
  enforce(ctx, 'os_compute_api:os-flavor-manage:create');
  const v = FlavorCreate.parse(input);
  try {
    const r = await db().flavor.create({
      data: {
        id: v.id ?? randomUUID(),
        name: v.name,
        description: v.description ?? null,
        vcpus: v.vcpus,
        ramMb: v.ramMb,
        diskGb: v.diskGb,
        ephemeralGb: v.ephemeralGb,
        swapMb: v.swapMb,
        rxtxFactor: v.rxtxFactor,
        isPublic: v.isPublic,
      },
    });
    return toFlavor(r);
  } catch (err) {
    if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') {
      throw conflict(`Flavor with name ${v.name} or id ${v.id ?? ''} already exists.`);
    }
    throw err;
  }
}

/** A flavor the caller may see: public, or private with access for the project (admins see all). */
export async function getFlavor(ctx: AuthContext, id: string): Promise<Flavor> {
  const r = await db().flavor.findUnique({ where: { id }, include: { access: true } });
  if (!r || (!r.isPublic && !isAdmin(ctx) && !r.access.some((a) => a.projectId === ctx.projectId))) {
    throw notFound(`Flavor ${id} could not be found.`);
  }
  return toFlavor(r);
}

export interface FlavorListOptions {
  /**
   * Admins: true public only, false private only, 'all' both, undefined public only.
   * Only admins filter on it (Nova's rule): anyone else gets the public flavors and the
   * private ones shared with the project, or with true the public ones only.
   */
  isPublic?: boolean | 'all';
  minRam?: number;
  minDisk?: number;
  marker?: string;
  limit?: number;
  sortKey?: 'id' | 'name' | 'vcpus' | 'ramMb' | 'diskGb' | 'createdAt';
  sortDir?: 'asc' | 'desc';
}

export async function listFlavors(ctx: AuthContext, o: FlavorListOptions = {}): Promise<Flavor[]> {
  enforce(ctx, 'os_compute_api:flavors:index');
  const admin = isAdmin(ctx);
  const where: Prisma.FlavorWhereInput = { disabled: false };
  if (o.minRam !== undefined) where.ramMb = { gte: o.minRam };
  if (o.minDisk !== undefined) where.diskGb = { gte: o.minDisk };
  const accessible: Prisma.FlavorWhereInput = {
    OR: [{ isPublic: true }, { access: { some: { projectId: ctx.projectId ?? '' } } }],
  };
  if (o.isPublic === true) where.isPublic = true;
  else if (!admin) Object.assign(where, accessible);
  else if (o.isPublic === false) where.isPublic = false;
  else if (o.isPublic === undefined) where.isPublic = true;
  const page = await markerPage<Prisma.FlavorWhereInput, Prisma.FlavorOrderByWithRelationInput>(
    o,
    { field: o.sortKey ?? 'id', dir: o.sortDir ?? 'asc' },
    (id) => db().flavor.findFirst({ where: { AND: [where, { id }] } }),
    { keyDir: 'asc', isKey: (s) => s.length > 0 },
  );
  return (await db().flavor.findMany({ ...page, where: { AND: [where, page.where] } })).map(toFlavor);
}

export async function updateFlavor(
  ctx: AuthContext,
  id: string,
  input: { description?: string | null },
): Promise<Flavor> {
  enforce(ctx, 'os_compute_api:os-flavor-manage:update');
  await getFlavor(ctx, id);
  return toFlavor(await db().flavor.update({ where: { id }, data: { description: input.description ?? null } }));
}

export async function deleteFlavor(ctx: AuthContext, id: string): Promise<void> {
  enforce(ctx, 'os_compute_api:os-flavor-manage:delete');
  const n = await db().flavor.deleteMany({ where: { id } });
  if (n.count === 0) throw notFound(`Flavor ${id} could not be found.`);
}

// ---------------------------------------------------------------- access

export async function listFlavorAccess(
  ctx: AuthContext,
  id: string,
): Promise<Array<{ flavorId: string; projectId: string }>> {
  enforce(ctx, 'os_compute_api:os-flavor-access');
  const f = await getFlavor(ctx, id);
  if (f.isPublic) throw notFound('Access list not available for public flavors.');
  const rows = await db().flavorAccess.findMany({ where: { flavorId: id }, orderBy: { projectId: 'asc' } });
  return rows.map((r) => ({ flavorId: r.flavorId, projectId: r.projectId }));
}

export async function addFlavorAccess(ctx: AuthContext, id: string, projectId: string) {
  enforce(ctx, 'os_compute_api:os-flavor-access:add_tenant_access');
  const f = await getFlavor(ctx, id);
  if (f.isPublic) throw conflict('Can not add access to a public flavor.');
  const exists = await db().flavorAccess.findUnique({ where: { flavorId_projectId: { flavorId: id, projectId } } });
  if (exists) throw conflict(`Flavor access already exists for flavor ${id} and project ${projectId} combination.`);
  await db().flavorAccess.create({ data: { flavorId: id, projectId } });
  return listFlavorAccess(ctx, id);
}

export async function removeFlavorAccess(ctx: AuthContext, id: string, projectId: string) {
  enforce(ctx, 'os_compute_api:os-flavor-access:remove_tenant_access');
  await getFlavor(ctx, id);
  const n = await db().flavorAccess.deleteMany({ where: { flavorId: id, projectId } });
  if (n.count === 0) throw notFound(`Flavor access not found for ${id} / ${projectId} combination.`);
  return listFlavorAccess(ctx, id);
}

// ---------------------------------------------------------------- extra specs

export async function getExtraSpecs(ctx: AuthContext, id: string): Promise<Record<string, string>> {
  enforce(ctx, 'os_compute_api:os-flavor-extra-specs:index');
  return (await getFlavor(ctx, id)).extraSpecs;
}

export async function setExtraSpecs(
  ctx: AuthContext,
  id: string,
  specs: Record<string, string>,
): Promise<Record<string, string>> {
  enforce(ctx, 'os_compute_api:os-flavor-extra-specs:create');
  const parsed = ExtraSpecs.safeParse(specs);
  if (!parsed.success) throw badRequest('extra_specs keys and values must be strings of at most 255 characters.');
  const f = await getFlavor(ctx, id);
  const merged = { ...f.extraSpecs, ...parsed.data };
  await db().flavor.update({ where: { id }, data: { extraSpecs: merged } });
  return merged;
}

export async function deleteExtraSpec(ctx: AuthContext, id: string, key: string): Promise<void> {
  enforce(ctx, 'os_compute_api:os-flavor-extra-specs:delete');
  const f = await getFlavor(ctx, id);
  if (!(key in f.extraSpecs)) throw notFound(`Flavor ${id} has no extra specs with key ${key}.`);
  const { [key]: _gone, ...rest } = f.extraSpecs;
  await db().flavor.update({ where: { id }, data: { extraSpecs: rest } });
}

export function canManageFlavors(ctx: AuthContext): boolean {
  return can(ctx, 'os_compute_api:os-flavor-manage:create');
}
