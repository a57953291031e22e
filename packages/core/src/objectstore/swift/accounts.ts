import { Prisma, type Tx } from '@stratus/db';
import { forbidden } from '../../platform/errors.ts';
import { type ObjectCaller, authorize, canSetAccountQuota, projectOfAccount } from './access.ts';
import { LIMITS } from './constants.ts';
import { walkListing, type ListingEntry, type ListingOptions } from './listing.ts';
import { applyMeta, checkMeta, checkQuotaValue, type Meta, type MetaChange, storedMeta } from './meta.ts';
import { db, transaction } from './store.ts';
import { newTimestamp, timestampToDate } from './timestamp.ts';

/*
 * Accounts: one per project (AUTH_<project id>), created on first write as Swift's
 * account_autocreate does. An account that was never written reads as empty.
 * Totals are the sums of its containers' counters (no hot account row to update on
 * every object write).
 */
export interface AccountInfo {
  account: string;
  containerCount: number;
  objectCount: number;
  bytesUsed: number;
  meta: Meta;
  createdTs: string;
  /** The caller is the account's owner (sees temp-URL keys). */
  owner: boolean;
}

export interface ContainerSummary {
  name: string;
  count: number;
  bytes: number;
  lastModified: Date;
}

/** Keys an owner sees but an ACL grantee does not (as Swift's tempurl middleware hides them). */
const SECRET_META = ['temp-url-key', 'temp-url-key-2'];

export function visibleMeta(meta: Meta, owner: boolean): Meta {
  if (owner) return meta;
  return Object.fromEntries(Object.entries(meta).filter(([k]) => !SECRET_META.includes(k)));
}

export async function ensureAccount(tx: Tx, account: string): Promise<void> {
  const ts = newTimestamp();
  await tx.$executeRaw`
    INSERT INTO "SwiftAccount" (name, "projectId", meta, "createdTs", "metaTs", "updatedAt")
    VALUES (${account}, ${projectOfAccount(account)}, '{}'::jsonb, ${ts}, ${ts}, now())
    ON CONFLICT (name) DO NOTHING`;
}

async function accountInfo(account: string, owner: boolean): Promise<AccountInfo> {
  const [row, sums] = await Promise.all([
    db().swiftAccount.findUnique({ where: { name: account } }),
    db().$queryRaw<Array<{ containers: bigint; objects: bigint | null; bytes: bigint | null }>>`
      SELECT count(*) AS containers, sum("objectCount") AS objects, sum("bytesUsed") AS bytes
      FROM "SwiftContainer" WHERE account = ${account}`,
  ]);
  const s = sums[0];
  return {
    account,
    containerCount: Number(s?.containers ?? 0),
    objectCount: Number(s?.objects ?? 0),
    bytesUsed: Number(s?.bytes ?? 0),
    meta: visibleMeta(storedMeta(row?.meta), owner),
    createdTs: row?.createdTs ?? newTimestamp(),
    owner,
  };
}

export async function headAccount(caller: ObjectCaller, account: string): Promise<AccountInfo> {
  const { owner } = authorize(caller, account, 'account.read');
  return accountInfo(account, owner);
}

export async function listAccount(
  caller: ObjectCaller,
  account: string,
  opts: ListingOptions,
): Promise<{ info: AccountInfo; entries: Array<ListingEntry<ContainerSummary>> }> {
  const { owner } = authorize(caller, account, 'account.read');
  const entries = await walkListing<ContainerSummary>(opts, LIMITS.accountListingLimit, async (q) => {
    const rows = await db().$queryRaw<Array<{ name: string; objectCount: bigint; bytesUsed: bigint; updatedAt: Date }>>`
      SELECT name, "objectCount", "bytesUsed", "updatedAt" FROM "SwiftContainer"
      WHERE account = ${account} AND starts_with(name, ${q.prefix})
      ${q.after ? (q.after.inclusive ? Prisma.sql`AND name COLLATE "C" >= ${q.after.name}` : Prisma.sql`AND name COLLATE "C" > ${q.after.name}`) : Prisma.empty}
      ${q.before !== undefined ? Prisma.sql`AND name COLLATE "C" < ${q.before}` : Prisma.empty}
      ORDER BY name COLLATE "C" ${q.reverse ? Prisma.sql`DESC` : Prisma.sql`ASC`}
      LIMIT ${q.limit}`;
    return rows.map((r) => ({
      name: r.name,
      count: Number(r.objectCount),
      bytes: Number(r.bytesUsed),
      lastModified: r.updatedAt,
    }));
  });
  return { info: await accountInfo(account, owner), entries };
}

/** POST on the account: metadata, temp-URL keys, and (cloud admin only) the quota. */
export async function postAccount(caller: ObjectCaller, account: string, change: MetaChange): Promise<void> {
  authorize(caller, account, 'account.write');
  const touchesQuota = 'quota-bytes' in change.set || change.remove.includes('quota-bytes');
  if (touchesQuota && !canSetAccountQuota(caller)) throw forbidden('Only a cloud admin may set an account quota.');
  checkQuotaValue('X-Account-Meta-Quota-Bytes', change.set['quota-bytes']);
  await transaction(async (tx) => {
    await ensureAccount(tx, account);
    const rows = await tx.$queryRaw<
      Array<{ meta: unknown }>
    >`SELECT meta FROM "SwiftAccount" WHERE name = ${account} FOR UPDATE`;
    const meta = applyMeta(storedMeta(rows[0]?.meta), change);
    checkMeta('Account', meta);
    await tx.swiftAccount.update({ where: { name: account }, data: { meta, metaTs: newTimestamp() } });
  });
}

export function accountCreatedAt(info: AccountInfo): Date {
  return timestampToDate(info.createdTs);
}
