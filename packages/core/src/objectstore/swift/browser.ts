import { Readable } from 'node:stream';
import { badRequest } from '../../platform/errors.ts';
import type { ObjectCaller } from './access.ts';
import { parseAcl } from './acl.ts';
import { type BulkDeleteResult, bulkDelete } from './bulk.ts';
import { listContainer, postContainer } from './containers.ts';
import { type ObjectView, putObject } from './objects.ts';

/*
 * What a dashboard's object browser needs beyond the Swift API calls themselves:
 * the "public" switch on a container's read ACL, pseudo-folders as Horizon makes
 * them, and deleting everything under a prefix. Each is built from the Swift
 * functions, so the same policy and ACL rules apply as over the REST API.
 */

/** What "public" means here, as in Horizon: anyone may read objects and list the container. */
export const PUBLIC_READ_ELEMENTS = ['.r:*', '.rlistings'] as const;

/** True when the read ACL lets anyone read objects without a token (`.r:*`). */
export function isPublicRead(readAcl: string | null | undefined): boolean {
  return parseAcl(readAcl).referrers.includes('*');
}

/**
 * The read ACL with public access switched on or off. Other grants (projects, users,
 * referrer rules) are kept as they were; '' means "no ACL".
 */
export function withPublicRead(readAcl: string | null | undefined, makePublic: boolean): string {
  const kept = (readAcl ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e && e !== '.rlistings' && !/^\.(r|ref|referer|referrer):\*$/.test(e));
  return (makePublic ? [...PUBLIC_READ_ELEMENTS, ...kept] : kept).join(',');
}

/** Switches public read (and anonymous listing) of a container on or off. */
export async function setContainerPublic(
  caller: ObjectCaller,
  account: string,
  container: string,
  currentReadAcl: string | null,
  makePublic: boolean,
): Promise<string> {
  const readAcl = withPublicRead(currentReadAcl, makePublic);
  await postContainer(caller, account, container, { meta: { set: {}, remove: [] }, readAcl });
  return readAcl;
}

/** A pseudo-folder's marker object name: the path with one trailing '/'. */
export function folderObjectName(path: string): string {
  const trimmed = path.replace(/^\/+/, '').replace(/\/+$/, '');
  if (!trimmed) throw badRequest('Folder name required');
  if (trimmed.split('/').some((s) => s === '')) throw badRequest('Folder names may not contain empty parts ("//")');
  return `${trimmed}/`;
}

/**
 * Creates a pseudo-folder as Horizon and the swift CLI do: a zero-byte object named
 * "<path>/" with content type application/directory, so that an empty folder shows in
 * delimiter listings.
 */
export async function createPseudoFolder(
  caller: ObjectCaller,
  account: string,
  container: string,
  path: string,
): Promise<ObjectView> {
  return putObject(caller, {
    path: { account, container, object: folderObjectName(path) },
    body: Readable.from([]),
    contentLength: 0,
    contentType: 'application/directory',
    userMeta: {},
    headers: {},
  });
}

export interface PrefixDeleteResult extends BulkDeleteResult {
  /** True when `max` names were taken, so more may be left: call again (unless there were errors). */
  more: boolean;
}

/**
 * Deletes up to `max` objects whose names start with `prefix` (all of a container's
 * objects with prefix ''), with the caller's rights, through bulk delete. Callers loop
 * while `more` (and progress is made) so a large folder does not hold one request for
 * minutes.
 */
export async function deleteObjectsUnder(
  caller: ObjectCaller,
  account: string,
  container: string,
  prefix: string,
  max = 1000,
): Promise<PrefixDeleteResult> {
  if (!Number.isInteger(max) || max < 1 || max > 10_000) throw badRequest('max must be between 1 and 10000');
  const { entries } = await listContainer(caller, account, container, { prefix, limit: max });
  const names = entries.flatMap((e) => (e.kind === 'item' ? [e.item.name] : []));
  if (names.length === 0) return { deleted: 0, notFound: 0, errors: [], more: false };
  const r = await bulkDelete(
    caller,
    account,
    names.map((n) => `/${container}/${n}`),
  );
  return { ...r, more: names.length === max };
}
