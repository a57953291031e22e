import { createHash } from 'node:crypto';
import { getPgPool, Prisma, type PrismaClient, type Tx } from '@stratus/db';
import { enforce } from '../policy/index.ts';
import { runtime } from '../platform/runtime.ts';
import { placementError, type Caller, type CandidateQuery, type ResourceProvider } from './types.ts';

export function db(): PrismaClient {
  return runtime().db;
}

/**
 * Runs a statement as a named prepared statement on the pool behind Prisma: planned once
 * per connection instead of on every call, and without Prisma's per-query work. For the
 * scheduler's hot statements (candidates, claim), where that halves the cost of a
 * decision (bench/RESULTS.md). The name is derived from the text, so each distinct text
 * (a handful: it varies only with how many filters a query has) is prepared once.
 * Results come back as node-postgres parses them (int4 → number, arrays → arrays).
 */
export async function queryPrepared<T extends Record<string, unknown>>(sql: Prisma.Sql): Promise<T[]> {
  const name = `stratus_${createHash('sha1').update(sql.text).digest('hex').slice(0, 24)}`;
  const r = await getPgPool(runtime().databaseUrl).query<T>({ name, text: sql.text, values: sql.values });
  return r.rows;
}

/** Policy check for users; services (scheduler, compute) act for the cloud. */
export function authorize(caller: Caller, action: string, target: Record<string, unknown> = {}): void {
  if (caller === 'service') return;
  enforce(caller, action, target);
}

export interface ProviderRow {
  id: string;
  name: string;
  generation: number;
  parentId: string | null;
  rootId: string;
}

export const toProvider = (r: ProviderRow): ResourceProvider => ({
  uuid: r.id,
  name: r.name,
  generation: r.generation,
  parentProviderUuid: r.parentId,
  rootProviderUuid: r.rootId,
});

export async function findProvider(tx: Pick<Tx, '$queryRaw'>, uuid: string, lock = false): Promise<ProviderRow> {
  const rows = lock
    ? await tx.$queryRaw<ProviderRow[]>`
        SELECT id::text, name, generation, "parentId"::text AS "parentId", "rootId"::text AS "rootId"
          FROM "ResourceProvider" WHERE id = ${uuid}::uuid FOR UPDATE`
    : await tx.$queryRaw<ProviderRow[]>`
        SELECT id::text, name, generation, "parentId"::text AS "parentId", "rootId"::text AS "rootId"
          FROM "ResourceProvider" WHERE id = ${uuid}::uuid`;
  const row = rows[0];
  if (!row)
    throw placementError(
      'NotFound',
      `No resource provider with uuid ${uuid} found.`,
      'placement.resource_provider.not_found',
    );
  return row;
}

/**
 * Compare-and-swap of a provider's generation, also taking its row lock for the rest
 * of the transaction: Conflict when someone changed the provider since the caller read it.
 */
export async function bumpGeneration(
  tx: Pick<Tx, '$queryRaw'>,
  uuid: string,
  expected: number | undefined,
): Promise<number> {
  const rows =
    expected === undefined
      ? await tx.$queryRaw<Array<{ generation: number }>>`
          UPDATE "ResourceProvider" SET generation = generation + 1, "updatedAt" = now()
           WHERE id = ${uuid}::uuid RETURNING generation`
      : await tx.$queryRaw<Array<{ generation: number }>>`
          UPDATE "ResourceProvider" SET generation = generation + 1, "updatedAt" = now()
           WHERE id = ${uuid}::uuid AND generation = ${expected} RETURNING generation`;
  const row = rows[0];
  if (row) return row.generation;
  await findProvider(tx, uuid);
  throw placementError(
    'Conflict',
    `resource provider generation conflict: the resource provider ${uuid} was changed by another request; read it again and retry.`,
    'placement.concurrent_update',
  );
}

export const isUuid = (s: string): boolean =>
  /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(s);

/** Canonical dashed lowercase form of a uuid (placement accepts both forms). */
export function normalizeUuid(s: string): string {
  const hex = s.replace(/-/g, '').toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * WHERE fragments (over alias rp) selecting providers that have capacity for `resources`
 * and match traits, aggregates and tree. Capacity counts allocations committed when the
 * statement starts (the inventories' `used`); claims re-check it under row locks.
 */
export function providerFilters(q: Omit<CandidateQuery, 'limit'>): Prisma.Sql[] {
  const where: Prisma.Sql[] = [];
  for (const [rc, amount] of Object.entries(q.resources)) {
    where.push(Prisma.sql`EXISTS (
      SELECT 1 FROM "PlacementInventory" i
       WHERE i."providerId" = rp.id AND i."resourceClass" = ${rc}
         AND ${amount} >= i."minUnit" AND ${amount} <= i."maxUnit" AND ${amount} % i."stepSize" = 0
         AND ${amount} + i.used <= floor((i.total - i.reserved) * i."allocationRatio" + 1e-9))`);
  }
  for (const t of q.requiredTraits ?? []) {
    where.push(
      Prisma.sql`EXISTS (SELECT 1 FROM "ResourceProviderTrait" t WHERE t."providerId" = rp.id AND t.trait = ${t})`,
    );
  }
  if (q.forbiddenTraits?.length) {
    where.push(
      Prisma.sql`NOT EXISTS (SELECT 1 FROM "ResourceProviderTrait" t WHERE t."providerId" = rp.id AND t.trait = ANY(${q.forbiddenTraits}::text[]))`,
    );
  }
  for (const set of q.memberOf ?? []) {
    where.push(
      Prisma.sql`EXISTS (SELECT 1 FROM "ResourceProviderAggregate" g WHERE g."providerId" = rp.id AND g."aggregateUuid" = ANY(${set}::uuid[]))`,
    );
  }
  if (q.inTree) {
    where.push(Prisma.sql`rp."rootId" = (SELECT "rootId" FROM "ResourceProvider" WHERE id = ${q.inTree}::uuid)`);
  }
  return where;
}

export function whereClause(parts: Prisma.Sql[]): Prisma.Sql {
  return parts.length ? Prisma.sql`WHERE ${Prisma.join(parts, ' AND ')}` : Prisma.empty;
}
