import { Prisma } from '@stratus/db';
import { conflict, notFound } from '../../platform/errors.ts';
import { type ContainerAcl, type ObjectCaller, authorize, validContainerName } from './access.ts';
import { cleanAcl } from './acl.ts';
import { ensureAccount, visibleMeta } from './accounts.ts';
import { LIMITS } from './constants.ts';
import { walkListing, type ListingEntry, type ListingOptions } from './listing.ts';
import { applyMeta, checkMeta, checkQuotaValue, type Meta, type MetaChange, storedMeta } from './meta.ts';
import { db, transaction } from './store.ts';
import { newTimestamp } from './timestamp.ts';

/*
 * Containers: metadata, ACLs, quotas (X-Container-Meta-Quota-Bytes/-Count, set by the
 * owner as in Swift's container_quotas) and the counters kept with the listing rows.
 */
export interface ContainerInfo {
  account: string;
  name: string;
  objectCount: number;
  bytesUsed: number;
  meta: Meta;
  /** Only for owners (Swift hides ACLs from grantees). */
  readAcl: string | null;
  writeAcl: string | null;
  createdTs: string;
  lastModified: Date;
  owner: boolean;
}

export interface ObjectSummary {
  name: string;
  bytes: number;
  etag: string;
  contentType: string;
  lastModified: Date;
}

export interface ContainerRow extends ContainerAcl {
  id: string;
  account: string;
  name: string;
  meta: Meta;
  objectCount: number;
  bytesUsed: number;
  createdTs: string;
  updatedAt: Date;
}

export interface ContainerChange {
  meta: MetaChange;
  /** undefined: unchanged; '' removes. */
  readAcl?: string;
  writeAcl?: string;
}

export async function findContainer(account: string, name: string): Promise<ContainerRow | null> {
  const r = await db().swiftContainer.findUnique({ where: { account_name: { account, name } } });
  if (!r) return null;
  return {
    id: r.id,
    account: r.account,
    name: r.name,
    meta: storedMeta(r.meta),
    readAcl: r.readAcl,
    writeAcl: r.writeAcl,
    objectCount: Number(r.objectCount),
    bytesUsed: Number(r.bytesUsed),
    createdTs: r.createdTs,
    updatedAt: r.updatedAt,
  };
}

export async function requireContainer(account: string, name: string): Promise<ContainerRow> {
  const c = await findContainer(account, name);
  if (!c) throw notFound('The resource could not be found.');
  return c;
}

function info(c: ContainerRow, owner: boolean): ContainerInfo {
  return {
    account: c.account,
    name: c.name,
    objectCount: c.objectCount,
    bytesUsed: c.bytesUsed,
    meta: visibleMeta(c.meta, owner),
    readAcl: owner ? c.readAcl : null,
    writeAcl: owner ? c.writeAcl : null,
    createdTs: c.createdTs,
    lastModified: c.updatedAt,
    owner,
  };
}

function checkChange(change: ContainerChange): { readAcl?: string | null; writeAcl?: string | null } {
  checkQuotaValue('X-Container-Meta-Quota-Bytes', change.meta.set['quota-bytes']);
  checkQuotaValue('X-Container-Meta-Quota-Count', change.meta.set['quota-count']);
  const out: { readAcl?: string | null; writeAcl?: string | null } = {};
  if (change.readAcl !== undefined) out.readAcl = cleanAcl('read', change.readAcl) || null;
  if (change.writeAcl !== undefined) out.writeAcl = cleanAcl('write', change.writeAcl) || null;
  return out;
}

/** PUT: creates the container (true) or updates an existing one's metadata (false). */
export async function putContainer(
  caller: ObjectCaller,
  account: string,
  name: string,
  change: ContainerChange,
): Promise<{ created: boolean }> {
  validContainerName(name);
  authorize(caller, account, 'container.write');
  const acls = checkChange(change);
  return transaction(async (tx) => {
    await ensureAccount(tx, account);
    const ts = newTimestamp();
    const existing = await tx.$queryRaw<Array<{ meta: unknown }>>`
      SELECT meta FROM "SwiftContainer" WHERE account = ${account} AND name = ${name} FOR UPDATE`;
    const meta = applyMeta(storedMeta(existing[0]?.meta), change.meta);
    checkMeta('Container', meta);
    if (existing.length === 0) {
      const inserted = await tx.$executeRaw`
        INSERT INTO "SwiftContainer" (id, account, name, meta, "readAcl", "writeAcl", "createdTs", "metaTs", "updatedAt")
        VALUES (gen_random_uuid(), ${account}, ${name}, ${JSON.stringify(meta)}::jsonb, ${acls.readAcl ?? null}, ${acls.writeAcl ?? null}, ${ts}, ${ts}, now())
        ON CONFLICT (account, name) DO NOTHING`;
      if (inserted === 1) return { created: true };
    }
    await tx.swiftContainer.update({ where: { account_name: { account, name } }, data: { meta, ...acls, metaTs: ts } });
    return { created: false };
  });
}

export async function postContainer(
  caller: ObjectCaller,
  account: string,
  name: string,
  change: ContainerChange,
): Promise<void> {
  authorize(caller, account, 'container.write');
  const acls = checkChange(change);
  await transaction(async (tx) => {
    const existing = await tx.$queryRaw<Array<{ meta: unknown }>>`
      SELECT meta FROM "SwiftContainer" WHERE account = ${account} AND name = ${name} FOR UPDATE`;
    if (existing.length === 0) throw notFound('The resource could not be found.');
    const meta = applyMeta(storedMeta(existing[0]?.meta), change.meta);
    checkMeta('Container', meta);
    await tx.swiftContainer.update({
      where: { account_name: { account, name } },
      data: { meta, ...acls, metaTs: newTimestamp() },
    });
  });
}

export async function headContainer(caller: ObjectCaller, account: string, name: string): Promise<ContainerInfo> {
  const c = await findContainer(account, name);
  // Without a container there are no ACLs: only the owner learns that it does not exist.
  const { owner } = authorize(caller, account, 'container.read', {
    container: name,
    acl: c ?? { readAcl: null, writeAcl: null },
  });
  if (!c) throw notFound('The resource could not be found.');
  return info(c, owner);
}

export async function listContainer(
  caller: ObjectCaller,
  account: string,
  name: string,
  opts: ListingOptions,
): Promise<{ info: ContainerInfo; entries: Array<ListingEntry<ObjectSummary>> }> {
  const c = await findContainer(account, name);
  const { owner } = authorize(caller, account, 'container.list', {
    container: name,
    acl: c ?? { readAcl: null, writeAcl: null },
  });
  if (!c) throw notFound('The resource could not be found.');
  const entries = await walkListing<ObjectSummary>(opts, LIMITS.containerListingLimit, (q) => {
    const now = BigInt(Math.floor(Date.now() / 1000));
    return queryObjects(account, name, q.prefix, q.after, q.before, q.reverse, q.limit, now);
  });
  return { info: info(c, owner), entries };
}

/** Listed objects of a container, bytewise ordered; expired objects are already gone. */
export async function queryObjects(
  account: string,
  container: string,
  prefix: string,
  after: { name: string; inclusive: boolean } | undefined,
  before: string | undefined,
  reverse: boolean,
  limit: number,
  now: bigint,
): Promise<ObjectSummary[]> {
  const rows = await db().$queryRaw<
    Array<{ name: string; bytes: bigint; etag: string; contentType: string; lastModified: Date }>
  >`
    SELECT name, bytes, etag, "contentType", "lastModified" FROM "SwiftObject"
    WHERE account = ${account} AND container = ${container} AND NOT deleted
      AND ("deleteAt" IS NULL OR "deleteAt" > ${now})
      AND starts_with(name, ${prefix})
      ${after ? (after.inclusive ? Prisma.sql`AND name COLLATE "C" >= ${after.name}` : Prisma.sql`AND name COLLATE "C" > ${after.name}`) : Prisma.empty}
      ${before !== undefined ? Prisma.sql`AND name COLLATE "C" < ${before}` : Prisma.empty}
    ORDER BY name COLLATE "C" ${reverse ? Prisma.sql`DESC` : Prisma.sql`ASC`}
    LIMIT ${limit}`;
  return rows.map((r) => ({
    name: r.name,
    bytes: Number(r.bytes),
    etag: r.etag,
    contentType: r.contentType,
    lastModified: r.lastModified,
  }));
}

/** DELETE: only an empty container (409 otherwise, as Swift). */
export async function deleteContainer(caller: ObjectCaller, account: string, name: string): Promise<void> {
  authorize(caller, account, 'container.write');
  await transaction(async (tx) => {
    const rows = await tx.$queryRaw<Array<{ objectCount: bigint }>>`
      SELECT "objectCount" FROM "SwiftContainer" WHERE account = ${account} AND name = ${name} FOR UPDATE`;
    const row = rows[0];
    if (!row) throw notFound('The resource could not be found.');
    if (row.objectCount > 0n) throw conflict('There was a conflict when trying to complete your request.');
    await tx.swiftObject.deleteMany({ where: { account, container: name } });
    await tx.swiftReservation.deleteMany({ where: { account, container: name } });
    await tx.swiftContainer.delete({ where: { account_name: { account, name } } });
  });
}
