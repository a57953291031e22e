import { emitEvent, type Tx } from '@stratus/db';

/*
 * Live events of identity resources, emitted inside the writing transaction (pg_notify
 * is delivered on commit only). They are cloud-wide (projectId null: the admin room);
 * `userIds` names the users whose own view changes (a role on a project gained or lost),
 * and the web server also delivers the event to those users' sockets.
 */
export type IdentityKind = 'domain' | 'project' | 'user' | 'group' | 'role' | 'role_assignment';
export type IdentityAction = 'created' | 'updated' | 'deleted';

/** Catalog (regions, services, endpoints) changed: every process drops its catalog cache. */
export const CATALOG_EVENT = 'identity.catalog.updated';

/** NOTIFY payloads are capped near 8000 bytes: at most this many user ids per event. */
const USERS_PER_EVENT = 100;

export async function emitIdentityEvent(
  tx: Pick<Tx, '$executeRaw'>,
  kind: IdentityKind,
  action: IdentityAction,
  resourceId: string,
  data: Record<string, string | boolean | null> = {},
  userIds: string[] = [],
): Promise<void> {
  const type = `identity.${kind}.${action}`;
  const users = [...new Set(userIds)];
  if (users.length === 0) {
    await emitEvent(tx, { type, projectId: null, resourceId, data });
    return;
  }
  for (let i = 0; i < users.length; i += USERS_PER_EVENT) {
    await emitEvent(tx, {
      type,
      projectId: null,
      resourceId,
      data: { ...data, userIds: users.slice(i, i + USERS_PER_EVENT) },
    });
  }
}

export async function emitCatalogChanged(tx: Pick<Tx, '$executeRaw'>): Promise<void> {
  await emitEvent(tx, { type: CATALOG_EVENT, projectId: null, data: {} });
}

/** The users behind assignment actors: users themselves, and the members of groups. */
export async function usersOfActors(
  tx: Pick<Tx, 'groupMembership'>,
  actors: Array<{ actorType: string; actorId: string }>,
): Promise<string[]> {
  const users = actors.filter((a) => a.actorType === 'user').map((a) => a.actorId);
  const groups = actors.filter((a) => a.actorType === 'group').map((a) => a.actorId);
  if (groups.length) {
    const members = await tx.groupMembership.findMany({ where: { groupId: { in: groups } }, select: { userId: true } });
    users.push(...members.map((m) => m.userId));
  }
  return [...new Set(users)];
}

/** Users holding any role on a project (directly or through a group): their project lists change with it. */
export async function usersOnProject(
  tx: Pick<Tx, 'groupMembership' | 'roleAssignment'>,
  projectId: string,
): Promise<string[]> {
  const actors = await tx.roleAssignment.findMany({
    where: { targetType: 'project', targetId: projectId },
    select: { actorType: true, actorId: true },
  });
  return usersOfActors(tx, actors);
}
