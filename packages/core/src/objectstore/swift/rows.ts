import type { Tx } from '@stratus/db';
import { enqueueJob } from '../../platform/jobs.ts';
import type { ObjectPath, SwiftTimestamp } from '../backend.ts';
import { expireJobKey, objectExpireJobDef } from './jobs.ts';
import type { Reservation } from './quota.ts';
import { transaction } from './store.ts';
import { newer, timestampToDate } from './timestamp.ts';

/*
 * The listing rows, changed only after the backend accepted a write, in one
 * transaction with the container's counters (the container row is locked, so counters
 * and rows cannot drift under parallel writes). A row is only replaced by a newer
 * timestamp: a slow older write cannot overwrite a newer one, nor resurrect a delete.
 */
export interface ListingValues {
  bytes: number;
  storedBytes: number;
  etag: string;
  contentType: string;
  timestamp: SwiftTimestamp;
  deleteAt: number | undefined;
}

interface Row {
  storedBytes: bigint;
  timestamp: string;
  deleted: boolean;
  deleteAt: bigint | null;
}

async function lock(tx: Tx, p: ObjectPath): Promise<{ container: boolean; row: Row | undefined }> {
  const c = await tx.$queryRaw<Array<{ id: string }>>`
    SELECT id FROM "SwiftContainer" WHERE account = ${p.account} AND name = ${p.container} FOR UPDATE`;
  if (c.length === 0) return { container: false, row: undefined };
  const rows = await tx.$queryRaw<Row[]>`
    SELECT "storedBytes", timestamp, deleted, "deleteAt" FROM "SwiftObject"
    WHERE account = ${p.account} AND container = ${p.container} AND name = ${p.object} FOR UPDATE`;
  return { container: true, row: rows[0] };
}

async function bump(tx: Tx, p: ObjectPath, bytes: bigint, count: bigint): Promise<void> {
  await tx.$executeRaw`
    UPDATE "SwiftContainer" SET "bytesUsed" = "bytesUsed" + ${bytes}, "objectCount" = "objectCount" + ${count}, "updatedAt" = now()
    WHERE account = ${p.account} AND name = ${p.container}`;
}

/** After a successful backend PUT. False when the container no longer exists. */
export async function commitPut(p: ObjectPath, v: ListingValues, reservation: Reservation | null): Promise<boolean> {
  return transaction(async (tx) => {
    const { container, row } = await lock(tx, p);
    if (reservation) await reservation.release(tx);
    if (!container) return false;
    if (row && newer(row.timestamp, v.timestamp)) return true;
    const live = row && !row.deleted;
    const data = {
      bytes: BigInt(v.bytes),
      storedBytes: BigInt(v.storedBytes),
      etag: v.etag,
      contentType: v.contentType,
      timestamp: v.timestamp,
      lastModified: timestampToDate(v.timestamp),
      deleteAt: v.deleteAt === undefined ? null : BigInt(v.deleteAt),
      deleted: false,
      deletedAt: null,
    };
    await tx.swiftObject.upsert({
      where: { account_container_name: { account: p.account, container: p.container, name: p.object } },
      create: { account: p.account, container: p.container, name: p.object, ...data },
      update: data,
    });
    await bump(tx, p, BigInt(v.storedBytes) - (live ? row.storedBytes : 0n), live ? 0n : 1n);
    if (v.deleteAt !== undefined) await scheduleExpiry(tx, p, v.deleteAt);
    return true;
  });
}

/** After a successful POST: content type and X-Delete-At are listed too. */
export async function commitPost(
  p: ObjectPath,
  v: { contentType: string; deleteAt: number | undefined },
): Promise<void> {
  await transaction(async (tx) => {
    const { row } = await lock(tx, p);
    if (!row || row.deleted) return;
    await tx.swiftObject.update({
      where: { account_container_name: { account: p.account, container: p.container, name: p.object } },
      data: { contentType: v.contentType, deleteAt: v.deleteAt === undefined ? null : BigInt(v.deleteAt) },
    });
    if (v.deleteAt !== undefined) await scheduleExpiry(tx, p, v.deleteAt);
  });
}

/** After a backend DELETE (tombstone at `timestamp`). */
export async function commitDelete(p: ObjectPath, timestamp: SwiftTimestamp): Promise<void> {
  await transaction(async (tx) => {
    const { container, row } = await lock(tx, p);
    if (!container) return;
    if (row && newer(row.timestamp, timestamp)) return;
    const data = { timestamp, deleted: true, deletedAt: timestampToDate(timestamp), deleteAt: null };
    if (row) {
      await tx.swiftObject.update({
        where: { account_container_name: { account: p.account, container: p.container, name: p.object } },
        data,
      });
      if (!row.deleted) await bump(tx, p, -row.storedBytes, -1n);
    } else {
      await tx.swiftObject.create({
        data: {
          account: p.account,
          container: p.container,
          name: p.object,
          bytes: 0n,
          storedBytes: 0n,
          etag: '',
          contentType: '',
          lastModified: timestampToDate(timestamp),
          ...data,
        },
      });
    }
  });
}

async function scheduleExpiry(tx: Tx, p: ObjectPath, deleteAt: number): Promise<void> {
  await enqueueJob(
    tx,
    objectExpireJobDef,
    { account: p.account, container: p.container, object: p.object, deleteAt },
    { runAt: new Date(deleteAt * 1000), jobKey: expireJobKey(p.account, p.container, p.object) },
  );
}

/** The listed X-Delete-At of an object (undefined when none or not listed). */
export async function listedDeleteAt(tx: Tx, p: ObjectPath): Promise<{ deleteAt: number | undefined; live: boolean }> {
  const rows = await tx.$queryRaw<Row[]>`
    SELECT "storedBytes", timestamp, deleted, "deleteAt" FROM "SwiftObject"
    WHERE account = ${p.account} AND container = ${p.container} AND name = ${p.object}`;
  const r = rows[0];
  return { deleteAt: r?.deleteAt == null ? undefined : Number(r.deleteAt), live: !!r && !r.deleted };
}
