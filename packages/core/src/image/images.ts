import type * as P from '@stratus/db';
import { z } from 'zod';
import type { AuthContext } from '../identity/types.ts';
import { badRequest, conflict, forbidden, quotaExceeded, StratusError } from '../platform/errors.ts';
import { logger } from '../platform/log.ts';
import { enforce } from '../policy/index.ts';
import { applyImagePatch, checkPropertyName, CORE_ATTRIBUTES, type ImageChanges, type PatchOp, Tags } from './patch.ts';
import { effectiveQuota, imageUsage } from './quota.ts';
import { db, findVisible, imageEvent, toImage, viewerOf } from './records.ts';
import { imageStore } from './store.ts';
import { ContainerFormat, DiskFormat, type Image, type ImagePage, MemberStatus, UUID_RE, Visibility } from './types.ts';
import { visibleImagesWhere } from './visibility.ts';

/*
 * Images (Glance v2): create, list, show, update (JSON-patch), delete, deactivate and
 * reactivate, tags. Every function checks its policy rule; visibility decides what the
 * caller can see at all (unseen images are NotFound).
 */

export const MAX_TAGS = 128;

export const CreateImageInput = z.object({
  id: z.string().regex(UUID_RE, 'must be a UUID').optional(),
  name: z.string().max(255).nullable().optional(),
  visibility: Visibility.optional(),
  protected: z.boolean().optional(),
  osHidden: z.boolean().optional(),
  diskFormat: DiskFormat.nullable().optional(),
  containerFormat: ContainerFormat.nullable().optional(),
  minDisk: z.number().int().min(0).max(2 ** 31 - 1).optional(),
  minRam: z.number().int().min(0).max(2 ** 31 - 1).optional(),
  tags: Tags.optional(),
  /** Another project than the caller's: admins only (image:set_owner). */
  owner: z.string().min(1).max(255).nullable().optional(),
  properties: z.record(z.string(), z.string().max(65535)).optional(),
});

function checkVisibilityChange(ctx: AuthContext, owner: string | null, visibility: Visibility | undefined): void {
  if (visibility === 'public') enforce(ctx, 'image:publicize_image', { owner });
  if (visibility === 'community') enforce(ctx, 'image:communitize_image', { owner });
}

export async function createImage(ctx: AuthContext, input: z.input<typeof CreateImageInput>): Promise<Image> {
  const o = CreateImageInput.parse(input);
  const owner = o.owner === undefined ? ctx.projectId : o.owner;
  enforce(ctx, 'image:add_image', { owner: owner ?? ctx.projectId });
  if (owner !== ctx.projectId) enforce(ctx, 'image:set_owner', { owner });
  checkVisibilityChange(ctx, owner, o.visibility);
  for (const k of Object.keys(o.properties ?? {})) {
    if (CORE_ATTRIBUTES.has(k)) throw badRequest(`Property '${k}' is a core attribute.`);
    checkPropertyName(k);
  }
  if (owner) {
    const [q, u] = await Promise.all([effectiveQuota(owner), imageUsage(owner)]);
    if (q.images >= 0 && u.images >= q.images) {
      throw quotaExceeded(`Maximum number of images exceeded: the project may own ${q.images} image(s).`);
    }
  }
  const row = await db().$transaction(async (tx) => {
    if (o.id && (await tx.image.findUnique({ where: { id: o.id } }))) throw conflict(`An image with identifier ${o.id} already exists`);
    const r = await tx.image.create({
      data: {
        ...(o.id ? { id: o.id } : {}),
        name: o.name ?? null,
        owner,
        visibility: o.visibility ?? 'shared',
        protected: o.protected ?? false,
        osHidden: o.osHidden ?? false,
        diskFormat: o.diskFormat ?? null,
        containerFormat: o.containerFormat ?? null,
        minDisk: o.minDisk ?? 0,
        minRam: o.minRam ?? 0,
        tags: [...new Set(o.tags ?? [])],
        properties: o.properties ?? {},
      },
    });
    await imageEvent(tx, 'image.created', r);
    return r;
  });
  return toImage(row);
}

export const SortKey = z.enum([
  'name',
  'status',
  'container_format',
  'disk_format',
  'size',
  'virtual_size',
  'id',
  'created_at',
  'updated_at',
  'visibility',
  'owner',
  'min_disk',
  'min_ram',
  'protected',
]);
export const SORT_KEYS: Record<z.infer<typeof SortKey>, keyof P.Prisma.ImageOrderByWithRelationInput> = {
  name: 'name',
  status: 'status',
  container_format: 'containerFormat',
  disk_format: 'diskFormat',
  size: 'size',
  virtual_size: 'virtualSize',
  id: 'id',
  created_at: 'createdAt',
  updated_at: 'updatedAt',
  visibility: 'visibility',
  owner: 'owner',
  min_disk: 'minDisk',
  min_ram: 'minRam',
  protected: 'protected',
};
export const SortDir = z.enum(['asc', 'desc']);

export const ListImagesInput = z.object({
  name: z.string().optional(),
  visibility: z.union([Visibility, z.literal('all')]).optional(),
  memberStatus: z.union([MemberStatus, z.literal('all')]).optional(),
  status: z.string().optional(),
  owner: z.string().optional(),
  /** Images carrying every one of these tags. */
  tags: z.array(z.string()).optional(),
  /** Default false: hidden images are listed only when asked for. */
  osHidden: z.boolean().optional(),
  diskFormat: z.string().optional(),
  containerFormat: z.string().optional(),
  protected: z.boolean().optional(),
  sizeMin: z.number().int().min(0).optional(),
  sizeMax: z.number().int().min(0).optional(),
  ids: z.array(z.string()).optional(),
  sort: z.array(z.object({ key: SortKey, dir: SortDir })).max(10).optional(),
  marker: z.string().optional(),
  limit: z.number().int().min(1).max(1000).optional(),
});
export const DEFAULT_PAGE_SIZE = 25;

type OrderBy = P.Prisma.ImageOrderByWithRelationInput[];

/**
 * One page of the images the caller sees. Sorted in the database (default: newest
 * first); the marker is the last image id of the previous page.
 */
export async function listImages(ctx: AuthContext, input: z.input<typeof ListImagesInput> = {}): Promise<ImagePage> {
  const o = ListImagesInput.parse(input);
  enforce(ctx, 'image:get_images', {});
  const where: P.Prisma.ImageWhereInput = {
    AND: [
      visibleImagesWhere(viewerOf(ctx), { ...(o.visibility ? { visibility: o.visibility } : {}), ...(o.memberStatus ? { memberStatus: o.memberStatus } : {}) }),
      {
        osHidden: o.osHidden ?? false,
        ...(o.name !== undefined ? { name: o.name } : {}),
        ...(o.status !== undefined ? { status: o.status } : {}),
        ...(o.owner !== undefined ? { owner: o.owner } : {}),
        ...(o.tags?.length ? { tags: { hasEvery: o.tags } } : {}),
        ...(o.diskFormat !== undefined ? { diskFormat: o.diskFormat } : {}),
        ...(o.containerFormat !== undefined ? { containerFormat: o.containerFormat } : {}),
        ...(o.protected !== undefined ? { protected: o.protected } : {}),
        ...(o.ids ? { id: { in: o.ids.filter((i) => UUID_RE.test(i)) } } : {}),
        ...(o.sizeMin !== undefined || o.sizeMax !== undefined
          ? { size: { ...(o.sizeMin !== undefined ? { gte: BigInt(o.sizeMin) } : {}), ...(o.sizeMax !== undefined ? { lte: BigInt(o.sizeMax) } : {}) } }
          : {}),
      },
    ],
  };
  const sort = o.sort?.length ? o.sort : [{ key: 'created_at' as const, dir: 'desc' as const }];
  const orderBy: OrderBy = sort.map((s) => ({ [SORT_KEYS[s.key]]: s.dir }));
  if (!sort.some((s) => s.key === 'id')) orderBy.push({ id: sort[sort.length - 1]?.dir ?? 'desc' });
  // Ids first (cheap, one column), then the page's rows: a marker works with any sort
  // order, NULLs included, without building keyset conditions per column.
  const ids = (await db().image.findMany({ where, orderBy, select: { id: true } })).map((r) => r.id);
  let start = 0;
  if (o.marker !== undefined) {
    const at = ids.indexOf(o.marker);
    if (at < 0) throw badRequest(`No image found with ID ${o.marker} (marker).`);
    start = at + 1;
  }
  const limit = o.limit ?? DEFAULT_PAGE_SIZE;
  const pageIds = ids.slice(start, start + limit);
  const rows = await db().image.findMany({ where: { id: { in: pageIds } } });
  const byId = new Map(rows.map((r) => [r.id, r]));
  const items = pageIds.flatMap((id) => {
    const r = byId.get(id);
    return r ? [toImage(r)] : [];
  });
  const more = start + limit < ids.length;
  return { items, next: more ? (pageIds[pageIds.length - 1] ?? null) : null };
}

export async function getImage(ctx: AuthContext, input: { imageId: string }): Promise<Image> {
  const { image } = await findVisible(ctx, input.imageId);
  enforce(ctx, 'image:get_image', { owner: image.owner, visibility: image.visibility });
  return image;
}

function changesToData(c: ImageChanges): P.Prisma.ImageUpdateInput {
  return {
    ...(c.name !== undefined ? { name: c.name } : {}),
    ...(c.visibility !== undefined ? { visibility: c.visibility } : {}),
    ...(c.protected !== undefined ? { protected: c.protected } : {}),
    ...(c.osHidden !== undefined ? { osHidden: c.osHidden } : {}),
    ...(c.minDisk !== undefined ? { minDisk: c.minDisk } : {}),
    ...(c.minRam !== undefined ? { minRam: c.minRam } : {}),
    ...(c.diskFormat !== undefined ? { diskFormat: c.diskFormat } : {}),
    ...(c.containerFormat !== undefined ? { containerFormat: c.containerFormat } : {}),
    ...(c.owner !== undefined ? { owner: c.owner } : {}),
    ...(c.tags !== undefined ? { tags: c.tags } : {}),
    ...(c.properties !== undefined ? { properties: c.properties } : {}),
  };
}

/** Applies a Glance JSON-patch (add/replace/remove on core attributes and properties). */
export async function updateImage(ctx: AuthContext, input: { imageId: string; patch: PatchOp[] }): Promise<Image> {
  const { image } = await findVisible(ctx, input.imageId);
  enforce(ctx, 'image:modify_image', { owner: image.owner });
  const changes = applyImagePatch(image, input.patch);
  if (changes.visibility !== undefined && changes.visibility !== image.visibility) checkVisibilityChange(ctx, image.owner, changes.visibility);
  if (changes.owner !== undefined && changes.owner !== image.owner) enforce(ctx, 'image:set_owner', { owner: changes.owner });
  if (changes.tags && changes.tags.length > MAX_TAGS) throw quotaExceeded(`Maximum number of tags (${MAX_TAGS}) exceeded.`);
  const row = await db().$transaction(async (tx) => {
    const r = await tx.image.update({ where: { id: image.id }, data: changesToData(changes) });
    await imageEvent(tx, 'image.updated', r);
    return r;
  });
  return toImage(row);
}

export async function deleteImage(ctx: AuthContext, input: { imageId: string }): Promise<void> {
  const { image } = await findVisible(ctx, input.imageId);
  enforce(ctx, 'image:delete_image', { owner: image.owner });
  if (image.protected) throw forbidden(`Image ${image.id} is protected and cannot be deleted.`);
  await db().$transaction(async (tx) => {
    const n = await tx.image.deleteMany({ where: { id: image.id, protected: false } });
    if (n.count === 0) throw forbidden(`Image ${image.id} is protected and cannot be deleted.`);
    await imageEvent(tx, 'image.deleted', { id: image.id, owner: image.owner, status: 'deleted' });
  });
  // After the row: a reader never finds a row whose data is gone, only stray data at worst.
  await imageStore()
    .delete(image.id)
    .catch((err: unknown) => logger().warn({ err, imageId: image.id }, 'image data not removed'));
}

async function setStatus(ctx: AuthContext, imageId: string, action: 'deactivate' | 'reactivate'): Promise<Image> {
  const { image } = await findVisible(ctx, imageId);
  enforce(ctx, `image:${action}`, { owner: image.owner });
  if (image.status !== 'active' && image.status !== 'deactivated') {
    throw badRequest(`Not allowed to ${action} image in status '${image.status}'`);
  }
  const to = action === 'deactivate' ? 'deactivated' : 'active';
  const row = await db().$transaction(async (tx) => {
    const n = await tx.image.updateMany({ where: { id: image.id, status: { in: ['active', 'deactivated'] } }, data: { status: to } });
    if (n.count === 0) throw conflict(`Image ${image.id} changed status meanwhile.`);
    const r = await tx.image.findUniqueOrThrow({ where: { id: image.id } });
    await imageEvent(tx, 'image.updated', r);
    return r;
  });
  return toImage(row);
}

/** Admin: an active image's data can no longer be downloaded (or booted) by non-admins. */
export const deactivateImage = (ctx: AuthContext, input: { imageId: string }) => setStatus(ctx, input.imageId, 'deactivate');
export const reactivateImage = (ctx: AuthContext, input: { imageId: string }) => setStatus(ctx, input.imageId, 'reactivate');

const Tag = z.string().min(1).max(255);

export async function addImageTag(ctx: AuthContext, input: { imageId: string; tag: string }): Promise<void> {
  const tag = Tag.safeParse(input.tag);
  if (!tag.success) throw badRequest('Invalid tag: 1 to 255 characters.');
  const { image } = await findVisible(ctx, input.imageId);
  enforce(ctx, 'image:modify_image', { owner: image.owner });
  if (image.tags.includes(tag.data)) return;
  if (image.tags.length >= MAX_TAGS) throw quotaExceeded(`Maximum number of tags (${MAX_TAGS}) exceeded.`);
  await db().$transaction(async (tx) => {
    const r = await tx.image.update({ where: { id: image.id }, data: { tags: { push: tag.data } } });
    // Two concurrent adds of the same tag: keep one.
    if (r.tags.filter((t) => t === tag.data).length > 1) await tx.image.update({ where: { id: image.id }, data: { tags: [...new Set(r.tags)] } });
    await imageEvent(tx, 'image.updated', r);
  });
}

export async function removeImageTag(ctx: AuthContext, input: { imageId: string; tag: string }): Promise<void> {
  const { image } = await findVisible(ctx, input.imageId);
  enforce(ctx, 'image:modify_image', { owner: image.owner });
  if (!image.tags.includes(input.tag)) throw new StratusError('NotFound', `Tag ${input.tag} not found on image ${image.id}.`);
  await db().$transaction(async (tx) => {
    const r = await tx.image.update({ where: { id: image.id }, data: { tags: image.tags.filter((t) => t !== input.tag) } });
    await imageEvent(tx, 'image.updated', r);
  });
}
