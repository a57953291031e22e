import type * as P from '@stratus/db';
import { emitEvent, type PrismaClient, type Tx } from '@stratus/db';
import type { AuthContext } from '../identity/types.ts';
import { notFound } from '../platform/errors.ts';
import { runtime } from '../platform/runtime.ts';
import { isImageAdmin } from './policy.ts';
import { type Image, type ImageMember, IMAGE_STATUSES, type ImageStatus, isUuid, MEMBER_STATUSES, type MemberStatus, Properties, Visibility } from './types.ts';
import { canSeeImage, type Viewer } from './visibility.ts';

export function db(): PrismaClient {
  return runtime().db;
}

export function viewerOf(ctx: AuthContext): Viewer {
  return { projectId: ctx.projectId, isAdmin: isImageAdmin(ctx) };
}

const statusOf = (s: string): ImageStatus => IMAGE_STATUSES.find((x) => x === s) ?? 'killed';
const memberStatusOf = (s: string): MemberStatus => MEMBER_STATUSES.find((x) => x === s) ?? 'pending';

export function toImage(r: P.Image): Image {
  const props = Properties.safeParse(r.properties);
  return {
    id: r.id,
    name: r.name,
    owner: r.owner,
    status: statusOf(r.status),
    visibility: Visibility.catch('shared').parse(r.visibility),
    diskFormat: r.diskFormat,
    containerFormat: r.containerFormat,
    size: r.size === null ? null : Number(r.size),
    virtualSize: r.virtualSize === null ? null : Number(r.virtualSize),
    checksum: r.checksum,
    osHashAlgo: r.osHashAlgo,
    osHashValue: r.osHashValue,
    minDisk: r.minDisk,
    minRam: r.minRam,
    protected: r.protected,
    osHidden: r.osHidden,
    tags: r.tags,
    properties: props.success ? props.data : {},
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

export function toMember(r: P.ImageMember): ImageMember {
  return { imageId: r.imageId, memberId: r.memberId, status: memberStatusOf(r.status), createdAt: r.createdAt, updatedAt: r.updatedAt };
}

const notFoundImage = (id: string) => notFound(`No image found with ID ${id}`);

/**
 * The image row if the caller can see it (NotFound otherwise, never Forbidden, so that
 * other projects' image ids cannot be probed), with the caller's membership.
 */
export async function findVisible(ctx: AuthContext, imageId: string): Promise<{ row: P.Image; image: Image; membership?: MemberStatus }> {
  if (!isUuid(imageId)) throw notFoundImage(imageId);
  const row = await db().image.findUnique({ where: { id: imageId } });
  if (!row) throw notFoundImage(imageId);
  const viewer = viewerOf(ctx);
  let membership: MemberStatus | undefined;
  if (row.visibility === 'shared' && ctx.projectId && row.owner !== ctx.projectId) {
    const m = await db().imageMember.findUnique({ where: { imageId_memberId: { imageId, memberId: ctx.projectId } } });
    if (m) membership = memberStatusOf(m.status);
  }
  if (!canSeeImage(viewer, row, membership)) throw notFoundImage(imageId);
  return { row, image: toImage(row), ...(membership ? { membership } : {}) };
}

/** Live event for the owner project's dashboards. */
export async function imageEvent(tx: Tx, type: string, image: { id: string; owner: string | null; status: string }): Promise<void> {
  await emitEvent(tx, { type, projectId: image.owner, resourceId: image.id, data: { status: image.status } });
}
