import { Prisma, type Tx } from '@stratus/db';
import { z } from 'zod';
import { badRequest } from '../platform/errors.ts';
import { authorize, db, normalizeUuid, queryPrepared } from './store.ts';
import {
  allocationProblem,
  type Caller,
  type ConsumerAllocations,
  type ConsumerView,
  concurrentUpdate,
  type Inventory,
  placementError,
  Resources,
} from './types.ts';

/*
 * Allocations: what consumers hold on providers. Every inventory row carries `used`, the
 * sum of the allocations against it, changed only together with the allocations and in
 * the same transaction; capacity is checked by a conditional UPDATE of that counter
 * (`used + n <= capacity`), which PostgreSQL re-evaluates on the newest row version when
 * it had to wait for another writer, so no interleaving can over-commit.
 *
 * Two ways to write:
 *  - claim (a new consumer's first allocations, the scheduler's hot path): one SQL
 *    statement inserts the consumer, bumps the providers' generations (their row locks
 *    serialise claims on a provider), raises `used` where it fits and inserts the
 *    allocations; if anything does not fit the statement aborts as a whole (see
 *    fastClaim) and the general path below reports why;
 *  - the general path (replacements, deletes, several consumers, consumer generations):
 *    1. upsert the consumer rows (their row locks serialise writers of one consumer) and
 *       compare generations with the caller's (consumer_generation, 1.28);
 *    2. lock and bump every provider involved (new ones and those the consumers leave),
 *       in id order so two writers never wait on each other in a cycle;
 *    3. move `used` by new - old per (provider, class), checking capacity for every
 *       requested class, then write the new allocations and drop the old ones.
 */

const Uuid = z.string().uuid().transform(normalizeUuid);
export const ConsumerAllocationsInput = z.object({
  consumerId: Uuid,
  projectId: z.string().min(1).max(255),
  userId: z.string().min(1).max(255),
  allocations: z.array(z.object({ providerId: Uuid, resources: Resources })),
  consumerGeneration: z.number().int().min(0).nullable().optional(),
});

const TX_OPTS = { maxWait: 20_000, timeout: 30_000 } as const;
const MAX_RETRIES = 5;

/** Deadlocks and serialization failures are retried a bounded number of times. */
function retryable(e: unknown): boolean {
  if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2034') return true;
  // node-postgres errors (prepared statements) carry the SQLSTATE in `code`.
  if (e instanceof Error && 'code' in e && (e.code === '40P01' || e.code === '40001')) return true;
  const text = e instanceof Error ? `${e.message} ${'meta' in e ? JSON.stringify(e.meta) : ''}` : '';
  return /40P01|40001|deadlock detected|could not serialize/i.test(text);
}

export async function withRetry<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (attempt >= MAX_RETRIES || !retryable(e)) throw e;
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * (attempt + 1)));
    }
  }
}

interface InventoryRow extends Inventory {
  p: string;
  rc: string;
}

/** The transaction body shared by PUT /allocations/{c}, POST /allocations and claims. */
async function writeAllocations(tx: Tx, consumers: ConsumerAllocations[]): Promise<Map<string, number>> {
  const sorted = [...consumers].sort((a, b) =>
    a.consumerId < b.consumerId ? -1 : a.consumerId > b.consumerId ? 1 : 0,
  );
  const generations = new Map<string, number>();
  for (const c of sorted) {
    if (generations.has(c.consumerId)) throw badRequest(`Consumer ${c.consumerId} appears twice in the request.`);
    const rows = await tx.$queryRaw<Array<{ generation: number; inserted: boolean }>>`
      INSERT INTO "PlacementConsumer" (id, "projectId", "userId", generation, "updatedAt")
      VALUES (${c.consumerId}::uuid, ${c.projectId}, ${c.userId}, 0, now())
      ON CONFLICT (id) DO UPDATE SET generation = "PlacementConsumer".generation + 1,
        "projectId" = EXCLUDED."projectId", "userId" = EXCLUDED."userId", "updatedAt" = now()
      RETURNING generation, (xmax = 0) AS inserted`;
    const row = rows[0];
    if (!row) throw new Error('consumer upsert returned no row');
    if (c.consumerGeneration === null && !row.inserted) {
      throw concurrentUpdate(`consumer generation conflict - expected null but got ${row.generation - 1}`);
    }
    if (typeof c.consumerGeneration === 'number' && (row.inserted || row.generation - 1 !== c.consumerGeneration)) {
      throw concurrentUpdate(
        `consumer generation conflict - expected ${c.consumerGeneration} but got ${row.inserted ? 'a new consumer' : row.generation - 1}`,
      );
    }
    generations.set(c.consumerId, row.generation);
  }
  const consumerIds = sorted.map((c) => c.consumerId);

  // Flatten the request; one entry per (consumer, provider, class).
  const flat: Array<{ c: string; p: string; rc: string; amount: number }> = [];
  for (const c of sorted) {
    const seen = new Set<string>();
    for (const a of c.allocations) {
      if (seen.has(a.providerId))
        throw badRequest(
          `Resource provider ${a.providerId} appears twice in the allocations of consumer ${c.consumerId}.`,
        );
      seen.add(a.providerId);
      for (const [rc, amount] of Object.entries(a.resources))
        flat.push({ c: c.consumerId, p: a.providerId, rc, amount });
    }
  }
  const newProviders = [...new Set(flat.map((f) => f.p))];

  const locked = await tx.$queryRaw<Array<{ id: string }>>`
    UPDATE "ResourceProvider" rp SET generation = rp.generation + 1, "updatedAt" = now()
      FROM (SELECT id FROM "ResourceProvider"
             WHERE id = ANY(${newProviders}::uuid[])
                OR id IN (SELECT "providerId" FROM "PlacementAllocation" WHERE "consumerId" = ANY(${consumerIds}::uuid[]))
             ORDER BY id FOR UPDATE) l
     WHERE rp.id = l.id
    RETURNING rp.id::text AS id`;
  const lockedIds = new Set(locked.map((r) => r.id));
  const missing = newProviders.find((p) => !lockedIds.has(p));
  if (missing) throw badRequest(`Allocation for resource provider '${missing}' that does not exist.`);

  // What these consumers hold now (stable: their rows are locked above), to move `used` by new - old.
  const old = await tx.$queryRaw<Array<{ p: string; rc: string; used: number }>>`
    SELECT "providerId"::text AS p, "resourceClass" AS rc, used FROM "PlacementAllocation"
     WHERE "consumerId" = ANY(${consumerIds}::uuid[])`;
  const delta = new Map<string, { p: string; rc: string; delta: number; requested: boolean }>();
  for (const o of old) {
    const d = delta.get(`${o.p}/${o.rc}`) ?? { p: o.p, rc: o.rc, delta: 0, requested: false };
    d.delta -= o.used;
    delta.set(`${o.p}/${o.rc}`, d);
  }
  if (flat.length > 0) {
    const keys = [...new Map(flat.map((f) => [`${f.p}/${f.rc}`, f])).values()];
    const invs = await tx.$queryRaw<InventoryRow[]>`
      SELECT i."providerId"::text AS p, i."resourceClass" AS rc, i.total, i.reserved, i."minUnit", i."maxUnit",
             i."stepSize", i."allocationRatio"
        FROM "PlacementInventory" i
        JOIN unnest(${keys.map((k) => k.p)}::uuid[], ${keys.map((k) => k.rc)}::text[]) AS k(p, rc)
          ON i."providerId" = k.p AND i."resourceClass" = k.rc`;
    const byKey = new Map(invs.map((r) => [`${r.p}/${r.rc}`, r]));
    for (const f of flat) {
      const inv = byKey.get(`${f.p}/${f.rc}`);
      if (!inv) {
        throw placementError(
          'Conflict',
          `Unable to allocate inventory: Inventory for '${f.rc}' on resource provider '${f.p}' invalid.`,
        );
      }
      const unit = allocationProblem(
        { ...inv, total: Number.MAX_SAFE_INTEGER, reserved: 0, allocationRatio: 1 },
        0,
        f.amount,
      );
      if (unit)
        throw badRequest(
          `Unable to allocate inventory for resource class ${f.rc} on resource provider ${f.p}: ${unit}.`,
        );
      const d = delta.get(`${f.p}/${f.rc}`) ?? { p: f.p, rc: f.rc, delta: 0, requested: false };
      d.delta += f.amount;
      d.requested = true;
      delta.set(`${f.p}/${f.rc}`, d);
    }
  }
  const moves = [...delta.values()];
  if (moves.length > 0) {
    // Every requested class must fit after the move (as Placement checks a replacement);
    // classes only given up are not checked. The row lock of each counter is held to commit.
    const moved = await tx.$queryRaw<Array<{ p: string; rc: string }>>`
      UPDATE "PlacementInventory" i SET used = i.used + d.delta
        FROM unnest(${moves.map((m) => m.p)}::uuid[], ${moves.map((m) => m.rc)}::text[],
                    ${moves.map((m) => m.delta)}::int[], ${moves.map((m) => m.requested)}::boolean[]) AS d(p, rc, delta, requested)
       WHERE i."providerId" = d.p AND i."resourceClass" = d.rc
         AND (NOT d.requested OR i.used + d.delta <= floor((i.total - i.reserved) * i."allocationRatio" + 1e-9))
      RETURNING i."providerId"::text AS p, i."resourceClass" AS rc`;
    const done = new Set(moved.map((m) => `${m.p}/${m.rc}`));
    const refused = moves.find((m) => m.requested && !done.has(`${m.p}/${m.rc}`));
    if (refused) {
      throw placementError(
        'Conflict',
        `Unable to allocate inventory: Unable to create allocation for '${refused.rc}' on resource provider '${refused.p}'. The requested amount would exceed the capacity.`,
      );
    }
  }
  if (flat.length === 0) {
    await tx.$executeRaw`DELETE FROM "PlacementAllocation" WHERE "consumerId" = ANY(${consumerIds}::uuid[])`;
  } else {
    // One statement: drop what the consumers no longer hold, write the new amounts.
    // The two never touch the same key, so their order inside the statement does not matter.
    await tx.$executeRaw`
      WITH req(c, p, rc, used) AS (
        SELECT * FROM unnest(${flat.map((f) => f.c)}::uuid[], ${flat.map((f) => f.p)}::uuid[],
                             ${flat.map((f) => f.rc)}::text[], ${flat.map((f) => f.amount)}::int[])
      ), gone AS (
        DELETE FROM "PlacementAllocation" a
         WHERE a."consumerId" = ANY(${consumerIds}::uuid[])
           AND NOT EXISTS (SELECT 1 FROM req WHERE req.c = a."consumerId" AND req.p = a."providerId" AND req.rc = a."resourceClass")
      )
      INSERT INTO "PlacementAllocation" ("consumerId", "providerId", "resourceClass", used)
      SELECT c, p, rc, used FROM req
      ON CONFLICT ("consumerId", "providerId", "resourceClass") DO UPDATE SET used = EXCLUDED.used`;
  }
  // A consumer left without allocations disappears, as in Placement.
  const emptied = sorted.filter((c) => c.allocations.length === 0).map((c) => c.consumerId);
  if (emptied.length) {
    await tx.$executeRaw`DELETE FROM "PlacementConsumer" WHERE id = ANY(${emptied}::uuid[])`;
    for (const id of emptied) generations.delete(id);
  }
  return generations;
}

function parseConsumer(input: z.input<typeof ConsumerAllocationsInput>): ConsumerAllocations {
  const r = ConsumerAllocationsInput.safeParse(input);
  if (!r.success) {
    const i = r.error.issues[0];
    throw badRequest(`Invalid allocations: ${i?.path.join('.') || 'body'}: ${i?.message ?? 'invalid'}`);
  }
  return r.data;
}

/**
 * Replaces all allocations of one consumer atomically; never over-commits. Conflict
 * (placement.concurrent_update) on a consumer generation mismatch, Conflict when a
 * provider lacks capacity. Returns the consumer's new generation (null when it now has none).
 */
export async function claimAllocations(
  caller: Caller,
  input: z.input<typeof ConsumerAllocationsInput>,
): Promise<{ consumerGeneration: number | null }> {
  authorize(caller, 'placement:allocations:update');
  const c = parseConsumer(input);
  if (c.consumerGeneration == null && c.allocations.length > 0) {
    const generation = await withRetry(() => fastClaim(c));
    if (generation !== undefined) return { consumerGeneration: generation };
  }
  const gens = await withRetry(() => db().$transaction((tx) => writeAllocations(tx, [c]), TX_OPTS));
  return { consumerGeneration: gens.get(c.consumerId) ?? null };
}

/** Marker of a claim statement that aborted itself (see fastClaim). */
const REFUSED = 'stratus-placement-claim-refused';

/**
 * A new consumer's first allocations in ONE statement and so one round trip, atomic
 * without an explicit transaction: in order, insert the consumer (nothing when it
 * exists), bump the providers' generations (taking their row locks, as every allocation
 * writer does, before any counter), raise each `used` that fits, insert the allocations.
 * When any count falls short the last SELECT casts a text built from the counts to int,
 * which fails at run time and so aborts the whole statement: nothing of it stays. The
 * text is not a constant, so the planner cannot fold the cast in advance. Returns the
 * consumer generation, or undefined when the claim did not go through here (consumer
 * exists, unknown provider, no room, bad amount): the general path then decides and
 * reports the precise error.
 */
async function fastClaim(c: ConsumerAllocations): Promise<number | undefined> {
  const flat: Array<{ p: string; rc: string; amount: number }> = [];
  const providers = new Set<string>();
  for (const a of c.allocations) {
    if (providers.has(a.providerId)) return undefined;
    providers.add(a.providerId);
    for (const [rc, amount] of Object.entries(a.resources)) flat.push({ p: a.providerId, rc, amount });
  }
  if (flat.length === 0) return undefined;
  flat.sort((a, b) => (a.p === b.p ? (a.rc < b.rc ? -1 : 1) : a.p < b.p ? -1 : 1));
  try {
    const rows = await queryPrepared<{ generation: number }>(Prisma.sql`
      WITH req(p, rc, amount) AS (
        SELECT * FROM unnest(${flat.map((f) => f.p)}::uuid[], ${flat.map((f) => f.rc)}::text[], ${flat.map((f) => f.amount)}::int[])
      ), con AS (
        INSERT INTO "PlacementConsumer" (id, "projectId", "userId", generation, "updatedAt")
        VALUES (${c.consumerId}::uuid, ${c.projectId}, ${c.userId}, 0, now())
        ON CONFLICT (id) DO NOTHING
        RETURNING generation
      ), rp AS (
        UPDATE "ResourceProvider" SET generation = generation + 1, "updatedAt" = now()
         WHERE id = ANY(${[...providers]}::uuid[])
        RETURNING id
      ), inv AS (
        UPDATE "PlacementInventory" i SET used = i.used + r.amount
          FROM req r
         WHERE i."providerId" = r.p AND i."resourceClass" = r.rc
           AND r.amount >= i."minUnit" AND r.amount <= i."maxUnit" AND r.amount % i."stepSize" = 0
           AND i.used + r.amount <= floor((i.total - i.reserved) * i."allocationRatio" + 1e-9)
        RETURNING 1
      ), alloc AS (
        INSERT INTO "PlacementAllocation" ("consumerId", "providerId", "resourceClass", used)
        SELECT ${c.consumerId}::uuid, p, rc, amount FROM req
        ON CONFLICT DO NOTHING
        RETURNING 1
      ), n AS (
        SELECT (SELECT count(*) FROM con) AS consumers, (SELECT count(*) FROM rp) AS providers,
               (SELECT count(*) FROM inv) AS classes, (SELECT count(*) FROM alloc) AS allocations
      )
      SELECT CASE WHEN consumers = 1 AND providers = ${providers.size} AND classes = ${flat.length}
                       AND allocations = ${flat.length}
                  THEN 0
                  ELSE (${REFUSED} || ': consumers=' || consumers || ' providers=' || providers
                        || ' classes=' || classes)::int END AS generation
        FROM n`);
    return rows[0]?.generation ?? undefined;
  } catch (e) {
    if (e instanceof Error && `${e.message} ${'meta' in e ? JSON.stringify(e.meta) : ''}`.includes(REFUSED))
      return undefined;
    throw e;
  }
}

/**
 * The same claim inside the caller's transaction (e.g. compute writing the server's host
 * in the same commit). Deadlock retries are then the caller's business.
 */
export async function claimAllocationsInTx(
  tx: Tx,
  input: z.input<typeof ConsumerAllocationsInput>,
): Promise<{ consumerGeneration: number | null }> {
  const c = parseConsumer(input);
  const gens = await writeAllocations(tx, [c]);
  return { consumerGeneration: gens.get(c.consumerId) ?? null };
}

/** The same inside the caller's transaction (compute moving a server's allocations to a migration). */
export async function replaceManyAllocationsInTx(
  tx: Tx,
  inputs: Array<z.input<typeof ConsumerAllocationsInput>>,
): Promise<void> {
  await writeAllocations(tx, inputs.map(parseConsumer));
}

/** POST /allocations: several consumers' allocations in one transaction (moves, migrations). */
export async function replaceManyAllocations(
  caller: Caller,
  inputs: Array<z.input<typeof ConsumerAllocationsInput>>,
): Promise<void> {
  authorize(caller, 'placement:allocations:manage');
  const cs = inputs.map(parseConsumer);
  await withRetry(() => db().$transaction((tx) => writeAllocations(tx, cs), TX_OPTS));
}

export async function getConsumerAllocations(caller: Caller, consumerId: string): Promise<ConsumerView> {
  authorize(caller, 'placement:allocations:list');
  const id = normalizeUuid(consumerId);
  const [consumer, rows] = await db().$transaction([
    db().placementConsumer.findUnique({ where: { id } }),
    db().$queryRaw<Array<{ p: string; rc: string; used: number; generation: number }>>`
      SELECT a."providerId"::text AS p, a."resourceClass" AS rc, a.used, rp.generation
        FROM "PlacementAllocation" a JOIN "ResourceProvider" rp ON rp.id = a."providerId"
       WHERE a."consumerId" = ${id}::uuid ORDER BY a."providerId", a."resourceClass"`,
  ]);
  const byProvider = new Map<string, ConsumerView['allocations'][number]>();
  for (const r of rows) {
    const entry = byProvider.get(r.p) ?? { providerId: r.p, providerGeneration: r.generation, resources: {} };
    entry.resources[r.rc] = r.used;
    byProvider.set(r.p, entry);
  }
  return {
    consumerId: id,
    projectId: consumer?.projectId ?? null,
    userId: consumer?.userId ?? null,
    generation: consumer?.generation ?? null,
    allocations: [...byProvider.values()],
  };
}

/** Removes all of a consumer's allocations; NotFound when it has none. */
export async function deleteAllocations(caller: Caller, consumerId: string): Promise<void> {
  authorize(caller, 'placement:allocations:delete');
  const id = normalizeUuid(consumerId);
  await withRetry(() =>
    db().$transaction(async (tx) => {
      const consumer = await tx.placementConsumer.findUnique({ where: { id } });
      if (!consumer) throw placementError('NotFound', `No allocations for consumer '${id}'`);
      await writeAllocations(tx, [
        { consumerId: id, projectId: consumer.projectId, userId: consumer.userId, allocations: [] },
      ]);
    }, TX_OPTS),
  );
}

export async function getProviderAllocations(
  caller: Caller,
  uuid: string,
): Promise<{ resourceProviderGeneration: number; allocations: Record<string, Record<string, number>> }> {
  authorize(caller, 'placement:resource_providers:allocations:list');
  const id = normalizeUuid(uuid);
  return db().$transaction(async (tx) => {
    const rp = await tx.resourceProvider.findUnique({ where: { id } });
    if (!rp)
      throw placementError('NotFound', `Resource provider '${id}' not found.`, 'placement.resource_provider.not_found');
    const rows = await tx.placementAllocation.findMany({
      where: { providerId: id },
      orderBy: [{ consumerId: 'asc' }, { resourceClass: 'asc' }],
    });
    const allocations: Record<string, Record<string, number>> = {};
    for (const r of rows) {
      const entry = allocations[r.consumerId] ?? {};
      entry[r.resourceClass] = r.used;
      allocations[r.consumerId] = entry;
    }
    return { resourceProviderGeneration: rp.generation, allocations };
  });
}
