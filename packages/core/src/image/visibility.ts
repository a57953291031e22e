import type { Prisma } from '@stratus/db';
import type { MemberStatus, Visibility } from './types.ts';

/*
 * Who sees which image, as Glance decides it:
 * - admins see everything;
 * - public and community images are visible to all (community ones are listed only
 *   when asked for with visibility=community, or to their owner);
 * - private images only to the owner project;
 * - shared images to the owner and to member projects. In lists, only accepted
 *   members see them, unless member_status asks for pending/rejected/all; by id,
 *   any member sees them (so that it can decide to accept).
 * The predicate (by id) and the query (lists) are kept side by side here.
 */
export interface Viewer {
  projectId: string | null;
  isAdmin: boolean;
}

export interface VisibleTarget {
  owner: string | null;
  visibility: string;
}

/** Whether `viewer` may see the image by id; `memberStatus` is the viewer's membership, if any. */
export function canSeeImage(viewer: Viewer, image: VisibleTarget, memberStatus: MemberStatus | undefined): boolean {
  if (viewer.isAdmin) return true;
  if (image.visibility === 'public' || image.visibility === 'community') return true;
  if (viewer.projectId !== null && image.owner === viewer.projectId) return true;
  return image.visibility === 'shared' && memberStatus !== undefined;
}

export interface VisibilityFilter {
  visibility?: Visibility | 'all';
  /** Default accepted; 'all' for any status. */
  memberStatus?: MemberStatus | 'all';
}

/** The Prisma condition selecting the images `viewer` sees in a list with these filters. */
export function visibleImagesWhere(viewer: Viewer, f: VisibilityFilter): Prisma.ImageWhereInput {
  const vis = f.visibility;
  if (viewer.isAdmin) return vis && vis !== 'all' ? { visibility: vis } : {};
  const me = viewer.projectId;
  const memberStatus = f.memberStatus ?? 'accepted';
  const sharedWithMe: Prisma.ImageWhereInput | undefined = me
    ? {
        visibility: 'shared',
        members: { some: { memberId: me, ...(memberStatus === 'all' ? {} : { status: memberStatus }) } },
      }
    : undefined;
  const owned: Prisma.ImageWhereInput | undefined = me ? { owner: me } : undefined;
  const any = (...c: Array<Prisma.ImageWhereInput | undefined>): Prisma.ImageWhereInput => {
    const list = c.filter((x): x is Prisma.ImageWhereInput => x !== undefined);
    return list.length === 0 ? { id: { in: [] } } : { OR: list };
  };
  switch (vis) {
    case 'public':
      return { visibility: 'public' };
    case 'community':
      return { visibility: 'community' };
    case 'private':
      return me ? { visibility: 'private', owner: me } : { id: { in: [] } };
    case 'shared':
      return { AND: [{ visibility: 'shared' }, any(owned, sharedWithMe)] };
    case 'all':
      return any(owned, { visibility: { in: ['public', 'community'] } }, sharedWithMe);
    default:
      return any(owned, { visibility: 'public' }, sharedWithMe);
  }
}
