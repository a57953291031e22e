import { Prisma } from '@stratus/db';
import type { AuthContext } from '../identity/types.ts';
import { conflict, forbidden, notFound, quotaExceeded } from '../platform/errors.ts';
import { enforce } from '../policy/index.ts';
import { isImageAdmin } from './policy.ts';
import { db, findVisible, imageEvent, toMember } from './records.ts';
import { type Image, type ImageMember, MemberStatus } from './types.ts';

/*
 * Image members (Glance): the owner shares a `shared` image with other projects; each
 * member project accepts or rejects it. Owners (and admins) see every member; a member
 * sees only its own membership.
 */
export const MAX_MEMBERS = 128;

function requireShared(image: Image): void {
  if (image.visibility !== 'shared') throw forbidden(`Only shared images have members.`);
}
const memberNotFound = (imageId: string, memberId: string) => notFound(`Member ${memberId} not found for image ${imageId}.`);

function isOwnerOrAdmin(ctx: AuthContext, image: Image): boolean {
  return isImageAdmin(ctx) || (ctx.projectId !== null && image.owner === ctx.projectId);
}

export async function addImageMember(ctx: AuthContext, input: { imageId: string; memberId: string }): Promise<ImageMember> {
  const { image } = await findVisible(ctx, input.imageId);
  enforce(ctx, 'image:add_member', { owner: image.owner });
  if (!isOwnerOrAdmin(ctx, image)) throw forbidden('Only the owner of an image can share it.');
  requireShared(image);
  const memberId = input.memberId.trim();
  if (!memberId || memberId.length > 255) throw forbidden('Invalid member id.');
  if ((await db().imageMember.count({ where: { imageId: image.id } })) >= MAX_MEMBERS) {
    throw quotaExceeded(`Maximum number of image members (${MAX_MEMBERS}) exceeded.`);
  }
  try {
    const row = await db().$transaction(async (tx) => {
      const m = await tx.imageMember.create({ data: { imageId: image.id, memberId } });
      await imageEvent(tx, 'image.member.created', { id: image.id, owner: memberId, status: m.status });
      return m;
    });
    return toMember(row);
  } catch (err) {
    if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') {
      throw conflict(`Member ${memberId} already associated with image ${image.id}.`);
    }
    throw err;
  }
}

export async function listImageMembers(ctx: AuthContext, input: { imageId: string }): Promise<ImageMember[]> {
  const { image } = await findVisible(ctx, input.imageId);
  enforce(ctx, 'image:get_members', { owner: image.owner });
  requireShared(image);
  const rows = await db().imageMember.findMany({
    where: { imageId: image.id, ...(isOwnerOrAdmin(ctx, image) ? {} : { memberId: ctx.projectId ?? '' }) },
    orderBy: { createdAt: 'asc' },
  });
  return rows.map(toMember);
}

export async function getImageMember(ctx: AuthContext, input: { imageId: string; memberId: string }): Promise<ImageMember> {
  const { image } = await findVisible(ctx, input.imageId);
  enforce(ctx, 'image:get_member', { owner: image.owner, member_id: input.memberId });
  requireShared(image);
  if (!isOwnerOrAdmin(ctx, image) && input.memberId !== ctx.projectId) throw memberNotFound(image.id, input.memberId);
  const row = await db().imageMember.findUnique({ where: { imageId_memberId: { imageId: image.id, memberId: input.memberId } } });
  if (!row) throw memberNotFound(image.id, input.memberId);
  return toMember(row);
}

/** The member project accepts (or rejects, or resets to pending) an image shared with it. */
export async function updateImageMember(ctx: AuthContext, input: { imageId: string; memberId: string; status: string }): Promise<ImageMember> {
  const parsed = MemberStatus.safeParse(input.status);
  if (!parsed.success) throw forbidden(`Status must be one of pending, accepted, rejected.`);
  const { image } = await findVisible(ctx, input.imageId);
  requireShared(image);
  const row = await db().imageMember.findUnique({ where: { imageId_memberId: { imageId: image.id, memberId: input.memberId } } });
  if (!row || (!isOwnerOrAdmin(ctx, image) && input.memberId !== ctx.projectId)) throw memberNotFound(image.id, input.memberId);
  enforce(ctx, 'image:modify_member', { owner: image.owner, member_id: input.memberId });
  const updated = await db().$transaction(async (tx) => {
    const m = await tx.imageMember.update({
      where: { imageId_memberId: { imageId: image.id, memberId: input.memberId } },
      data: { status: parsed.data },
    });
    await imageEvent(tx, 'image.member.updated', { id: image.id, owner: image.owner, status: m.status });
    return m;
  });
  return toMember(updated);
}

export async function deleteImageMember(ctx: AuthContext, input: { imageId: string; memberId: string }): Promise<void> {
  const { image } = await findVisible(ctx, input.imageId);
  enforce(ctx, 'image:delete_member', { owner: image.owner });
  if (!isOwnerOrAdmin(ctx, image)) throw forbidden('Only the owner of an image can stop sharing it.');
  requireShared(image);
  await db().$transaction(async (tx) => {
    const n = await tx.imageMember.deleteMany({ where: { imageId: image.id, memberId: input.memberId } });
    if (n.count === 0) throw memberNotFound(image.id, input.memberId);
    await imageEvent(tx, 'image.member.deleted', { id: image.id, owner: image.owner, status: 'deleted' });
  });
}
