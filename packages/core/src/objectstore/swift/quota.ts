import { Transform, type TransformCallback } from 'node:stream';
import type { Tx } from '@stratus/db';
import { quotaExceeded } from '../../platform/errors.ts';
import { quotaValue, storedMeta } from './meta.ts';
import { db, transaction } from './store.ts';

/*
 * Account quotas (X-Account-Meta-Quota-Bytes) and container quotas
 * (X-Container-Meta-Quota-Bytes / -Count) → 413. Swift checks a quota against the
 * counters before an upload, so parallel uploads can pass it together; here an upload
 * under a quota first reserves its bytes (a SwiftReservation row, written while the
 * account or container row is locked), and the reservation goes away in the same
 * transaction that adds the object to the listing. A chunked upload (no
 * Content-Length) reserves as its bytes arrive. Reservations carry a lease, so one
 * left by a crashed process stops counting after a while.
 */
const LEASE_MS = 10 * 60_000;
const CHUNK_STEP = 8 * 1024 * 1024;

interface Quotas {
  accountBytes?: number;
  containerBytes?: number;
  containerCount?: number;
}

export class Reservation {
  constructor(
    readonly id: string,
    private readonly account: string,
    private readonly container: string,
    private readonly quotas: Quotas,
    public bytes: number,
  ) {}

  /** Reserves `more` bytes; throws 413 when a quota would be passed. */
  async grow(more: number): Promise<void> {
    await transaction(async (tx) => {
      await check(tx, this.account, this.container, this.quotas, more, 0);
      await tx.swiftReservation.update({
        where: { id: this.id },
        data: { bytes: { increment: BigInt(more) }, expiresAt: new Date(Date.now() + LEASE_MS) },
      });
    });
    this.bytes += more;
  }

  async release(tx?: Tx): Promise<void> {
    await (tx ?? db()).swiftReservation.deleteMany({ where: { id: this.id } });
  }
}

async function quotasOf(account: string, container: string): Promise<Quotas> {
  const [a, c] = await Promise.all([
    db().swiftAccount.findUnique({ where: { name: account }, select: { meta: true } }),
    db().swiftContainer.findUnique({ where: { account_name: { account, name: container } }, select: { meta: true } }),
  ]);
  const am = storedMeta(a?.meta);
  const cm = storedMeta(c?.meta);
  const q: Quotas = {};
  const ab = quotaValue(am, 'quota-bytes');
  const cb = quotaValue(cm, 'quota-bytes');
  const cc = quotaValue(cm, 'quota-count');
  if (ab !== undefined) q.accountBytes = ab;
  if (cb !== undefined) q.containerBytes = cb;
  if (cc !== undefined) q.containerCount = cc;
  return q;
}

const over = () => quotaExceeded('Upload exceeds quota.');

async function check(
  tx: Tx,
  account: string,
  container: string,
  q: Quotas,
  bytes: number,
  objects: number,
): Promise<void> {
  const now = new Date();
  if (q.accountBytes !== undefined) {
    await tx.$queryRaw`SELECT 1 FROM "SwiftAccount" WHERE name = ${account} FOR UPDATE`;
    const rows = await tx.$queryRaw<Array<{ used: bigint | null; reserved: bigint | null }>>`
      SELECT (SELECT sum("bytesUsed") FROM "SwiftContainer" WHERE account = ${account}) AS used,
             (SELECT sum(bytes) FROM "SwiftReservation" WHERE account = ${account} AND "expiresAt" > ${now}) AS reserved`;
    const used = Number(rows[0]?.used ?? 0) + Number(rows[0]?.reserved ?? 0);
    if (used + bytes > q.accountBytes) throw over();
  }
  if (q.containerBytes !== undefined || q.containerCount !== undefined) {
    const rows = await tx.$queryRaw<Array<{ bytesUsed: bigint; objectCount: bigint }>>`
      SELECT "bytesUsed", "objectCount" FROM "SwiftContainer" WHERE account = ${account} AND name = ${container} FOR UPDATE`;
    const res = await tx.$queryRaw<Array<{ bytes: bigint | null; objects: bigint | null }>>`
      SELECT sum(bytes) AS bytes, sum(objects) AS objects FROM "SwiftReservation"
      WHERE account = ${account} AND container = ${container} AND "expiresAt" > ${now}`;
    const usedBytes = Number(rows[0]?.bytesUsed ?? 0) + Number(res[0]?.bytes ?? 0);
    const usedCount = Number(rows[0]?.objectCount ?? 0) + Number(res[0]?.objects ?? 0);
    if (q.containerBytes !== undefined && usedBytes + bytes > q.containerBytes) throw over();
    if (q.containerCount !== undefined && objects > 0 && usedCount + objects > q.containerCount) throw over();
  }
}

/**
 * Reserves room for an upload of `bytes` (undefined: unknown yet, chunked) adding
 * one object when it is new; null when no quota applies to this container.
 */
export async function reserveUpload(
  account: string,
  container: string,
  bytes: number | undefined,
  isNew: () => Promise<boolean>,
): Promise<Reservation | null> {
  const q = await quotasOf(account, container);
  if (q.accountBytes === undefined && q.containerBytes === undefined && q.containerCount === undefined) return null;
  // Only a count quota needs to know whether the object is new.
  const objects = q.containerCount !== undefined && (await isNew()) ? 1 : 0;
  const initial = bytes ?? 0;
  const id = await transaction(async (tx) => {
    await check(tx, account, container, q, initial, objects);
    const r = await tx.swiftReservation.create({
      data: { account, container, bytes: BigInt(initial), objects, expiresAt: new Date(Date.now() + LEASE_MS) },
      select: { id: true },
    });
    return r.id;
  });
  return new Reservation(id, account, container, q, initial);
}

/**
 * Passes the bytes through, growing the reservation before they go further; the
 * stream fails with 413 when the quota is passed (the backend then stores nothing).
 */
export function meteredBody(reservation: Reservation, declared: number | undefined): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      seen += chunk.length;
      if (seen <= reservation.bytes) {
        cb(null, chunk);
        return;
      }
      if (declared !== undefined) {
        cb(over());
        return;
      }
      // Reserve ahead in steps; near the quota, exactly what arrived.
      const need = seen - reservation.bytes;
      reservation
        .grow(Math.max(need, CHUNK_STEP))
        .catch(() => reservation.grow(need))
        .then(
          () => cb(null, chunk),
          (err: unknown) => cb(err instanceof Error ? err : over()),
        );
    },
  });
}
