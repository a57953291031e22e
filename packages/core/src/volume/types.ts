import type { VolumeType as TypeRow } from '@stratus/db';
import { z } from 'zod';
import type { AuthContext } from '../identity/types.ts';
import { badRequest, conflict, notFound } from '../platform/errors.ts';
import { can, enforce } from '../policy/index.ts';
import { cfg, db, isUuid, newUuid } from './common.ts';

/*
 * Volume types with extra specs. The specs the scheduler and attach path read:
 *   volume_backend_name      — only backends of that name take the volume
 *   multiattach = "<is> True" — volumes of the type may attach to several servers
 *   RESKEY:availability_zones — comma-separated zones the type may be created in
 */
export interface VolumeTypeView {
  id: string;
  name: string;
  description: string | null;
  isPublic: boolean;
  extraSpecs: Record<string, string>;
}

const Specs = z.record(z.string(), z.string());
export function toVolumeType(t: TypeRow): VolumeTypeView {
  const s = Specs.safeParse(t.extraSpecs);
  return {
    id: t.id,
    name: t.name,
    description: t.description,
    isPublic: t.isPublic,
    extraSpecs: s.success ? s.data : {},
  };
}

/** "<is> True", "True", "true" all mean yes, as Cinder reads boolean specs. */
export function specTrue(v: string | undefined): boolean {
  if (v === undefined) return false;
  return /^(<is>\s*)?true$/i.test(v.trim());
}

/** The default type (created on first use, as Cinder's migration creates __DEFAULT__). */
export async function defaultVolumeType(): Promise<TypeRow> {
  const name = cfg().volumeDefaultType;
  const found = await db().volumeType.findUnique({ where: { name } });
  if (found) return found;
  await db()
    .$executeRaw`INSERT INTO "VolumeType" (id, name, description, "isPublic", "extraSpecs", "createdAt", "updatedAt")
    VALUES (${newUuid()}::uuid, ${name}, 'Default Volume Type', true, '{}'::jsonb, now(), now()) ON CONFLICT (name) DO NOTHING`;
  return db().volumeType.findUniqueOrThrow({ where: { name } });
}

/** By id or name; private types are visible to admins only. */
export async function findVolumeType(ctx: AuthContext, ref: string): Promise<TypeRow> {
  if (ref === cfg().volumeDefaultType) return defaultVolumeType();
  const t = isUuid(ref)
    ? await db().volumeType.findUnique({ where: { id: ref } })
    : await db().volumeType.findUnique({ where: { name: ref } });
  if (!t || (!t.isPublic && !can(ctx, 'admin_required'))) throw notFound(`Volume type ${ref} could not be found.`);
  return t;
}

export async function listVolumeTypes(
  ctx: AuthContext,
  o: { isPublic?: boolean | null } = {},
): Promise<VolumeTypeView[]> {
  enforce(ctx, 'volume_extension:type_get_all');
  await defaultVolumeType();
  const admin = can(ctx, 'admin_required');
  // is_public=None lists both to admins; everyone else sees public types only.
  const where = !admin ? { isPublic: true } : o.isPublic === null ? {} : { isPublic: o.isPublic ?? true };
  const rows = await db().volumeType.findMany({ where, orderBy: { name: 'asc' } });
  return rows.map(toVolumeType);
}

export async function getVolumeType(ctx: AuthContext, ref: string): Promise<VolumeTypeView> {
  enforce(ctx, 'volume_extension:type_get');
  if (ref === 'default') return toVolumeType(await defaultVolumeType());
  return toVolumeType(await findVolumeType(ctx, ref));
}

const TypeCreate = z.object({
  name: z.string().trim().min(1).max(255),
  description: z.string().max(255).nullish(),
  isPublic: z.boolean().default(true),
  extraSpecs: Specs.default({}),
});

export async function createVolumeType(ctx: AuthContext, input: z.input<typeof TypeCreate>): Promise<VolumeTypeView> {
  enforce(ctx, 'volume_extension:types_manage');
  const r = TypeCreate.safeParse(input);
  if (!r.success) throw badRequest(`Invalid volume type: ${r.error.issues[0]?.message ?? 'invalid'}`);
  checkSpecs(r.data.extraSpecs);
  const exists = await db().volumeType.findUnique({ where: { name: r.data.name } });
  if (exists) throw conflict(`Volume Type ${r.data.name} already exists.`);
  const t = await db().volumeType.create({
    data: {
      id: newUuid(),
      name: r.data.name,
      description: r.data.description ?? null,
      isPublic: r.data.isPublic,
      extraSpecs: r.data.extraSpecs,
    },
  });
  return toVolumeType(t);
}

function checkSpecs(specs: Record<string, string>): void {
  for (const [k, v] of Object.entries(specs)) {
    if (!k || k.length > 255 || v.length > 255)
      throw badRequest('Invalid extra spec: keys and values are 1-255 characters.');
  }
}

export async function updateVolumeType(
  ctx: AuthContext,
  id: string,
  input: { name?: string; description?: string | null; isPublic?: boolean },
): Promise<VolumeTypeView> {
  enforce(ctx, 'volume_extension:types_manage');
  const t = await findVolumeType(ctx, id);
  if (input.name !== undefined) {
    if (!input.name.trim() || input.name.length > 255) throw badRequest('Invalid volume type name.');
    if (t.name === cfg().volumeDefaultType && input.name !== t.name)
      throw badRequest('The default volume type cannot be renamed.');
    const other = await db().volumeType.findUnique({ where: { name: input.name } });
    if (other && other.id !== t.id) throw conflict(`Volume Type ${input.name} already exists.`);
  }
  const u = await db().volumeType.update({
    where: { id: t.id },
    data: {
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.isPublic !== undefined ? { isPublic: input.isPublic } : {}),
    },
  });
  return toVolumeType(u);
}

export async function deleteVolumeType(ctx: AuthContext, id: string): Promise<void> {
  enforce(ctx, 'volume_extension:types_manage');
  const t = await findVolumeType(ctx, id);
  if (t.name === cfg().volumeDefaultType) throw badRequest('The default volume type cannot be deleted.');
  const inUse = await db().volume.count({ where: { volumeTypeId: t.id } });
  if (inUse > 0)
    throw badRequest(
      `Target volume type is still in use. Volume Type ${t.id} deletion is not allowed with volumes present with the type.`,
    );
  await db().volumeType.delete({ where: { id: t.id } });
}

export async function getVolumeTypeExtraSpecs(ctx: AuthContext, id: string): Promise<Record<string, string>> {
  enforce(ctx, 'volume_extension:types_extra_specs:index');
  return toVolumeType(await findVolumeType(ctx, id)).extraSpecs;
}

export async function setVolumeTypeExtraSpecs(
  ctx: AuthContext,
  id: string,
  specs: Record<string, string>,
): Promise<Record<string, string>> {
  enforce(ctx, 'volume_extension:types_extra_specs:create');
  const parsed = Specs.safeParse(specs);
  if (!parsed.success) throw badRequest('Invalid extra specs: values must be strings.');
  checkSpecs(parsed.data);
  const t = await findVolumeType(ctx, id);
  const merged = { ...toVolumeType(t).extraSpecs, ...parsed.data };
  await db().volumeType.update({ where: { id: t.id }, data: { extraSpecs: merged } });
  return merged;
}

export async function deleteVolumeTypeExtraSpec(ctx: AuthContext, id: string, key: string): Promise<void> {
  enforce(ctx, 'volume_extension:types_extra_specs:delete');
  const t = await findVolumeType(ctx, id);
  const specs = toVolumeType(t).extraSpecs;
  if (!(key in specs)) throw notFound(`Volume Type ${t.id} has no extra specs with key ${key}.`);
  delete specs[key];
  await db().volumeType.update({ where: { id: t.id }, data: { extraSpecs: specs } });
}
