import { Prisma } from '@stratus/db';
import { z } from 'zod';
import { badRequest } from '../platform/errors.ts';
import { authorize, normalizeUuid, providerFilters, queryPrepared } from './store.ts';
import {
  type AllocationCandidates,
  type Caller,
  type CandidateQuery,
  type ProviderSummary,
  Resources,
} from './types.ts';

const Uuid = z.string().uuid().transform(normalizeUuid);
export const CandidateQueryInput = z.object({
  resources: Resources.refine((r) => Object.keys(r).length > 0, { message: 'at least one resource is required' }),
  requiredTraits: z.array(z.string().min(1)).optional(),
  forbiddenTraits: z.array(z.string().min(1)).optional(),
  memberOf: z.array(z.array(Uuid).min(1)).optional(),
  inTree: Uuid.optional(),
  limit: z.number().int().min(1).optional(),
  randomize: z.boolean().optional(),
});

type SummaryRow = {
  id: string;
  name: string;
  generation: number;
  parentId: string | null;
  rootId: string;
  rc: string;
  cap: number;
  used: number;
  traits: string[] | null;
  aggregates: string[] | null;
};

/**
 * Providers that can satisfy `resources` on their own (plus required/forbidden traits,
 * aggregate membership and tree), each with what a claim would write and a summary of
 * the provider (capacity and usage of every class, traits, aggregates). A snapshot: the
 * claim re-checks capacity under lock.
 */
export async function getAllocationCandidates(caller: Caller, input: CandidateQuery): Promise<AllocationCandidates> {
  authorize(caller, 'placement:allocation_candidates:list');
  const r = CandidateQueryInput.safeParse(input);
  if (!r.success) {
    const i = r.error.issues[0];
    throw badRequest(
      `Invalid allocation candidates query: ${i?.path.join('.') || 'query'}: ${i?.message ?? 'invalid'}`,
    );
  }
  const q = r.data;
  const where = providerFilters({ ...q, resources: {} });
  const rcs = Object.keys(q.resources);
  const amounts = Object.values(q.resources);
  const pick =
    q.limit === undefined
      ? Prisma.empty
      : q.randomize
        ? Prisma.sql`ORDER BY random() LIMIT ${q.limit}`
        : Prisma.sql`ORDER BY "providerId" LIMIT ${q.limit}`;
  // `fits`: one pass over the inventories of the requested classes (their `used`
  // counters), then the other filters on the fitting providers only, then the pick; the
  // summaries (one row per provider and class) are read for the picked providers only.
  const rows = await queryPrepared<SummaryRow>(Prisma.sql`
    WITH fits AS (
      SELECT i."providerId" FROM "PlacementInventory" i
        JOIN unnest(${rcs}::text[], ${amounts}::int[]) AS r(rc, amount) ON i."resourceClass" = r.rc
       WHERE r.amount >= i."minUnit" AND r.amount <= i."maxUnit" AND r.amount % i."stepSize" = 0
         AND i.used + r.amount <= floor((i.total - i.reserved) * i."allocationRatio" + 1e-9)
       GROUP BY 1 HAVING count(*) = ${rcs.length}
    ), picked AS (
      SELECT fits."providerId" FROM fits JOIN "ResourceProvider" rp ON rp.id = fits."providerId"
      ${where.length ? Prisma.sql`WHERE ${Prisma.join(where, ' AND ')}` : Prisma.empty}
      ${pick}
    ), tags AS (
      SELECT p."providerId",
             (SELECT array_agg(t.trait ORDER BY t.trait) FROM "ResourceProviderTrait" t WHERE t."providerId" = p."providerId") AS traits,
             (SELECT array_agg(g."aggregateUuid"::text ORDER BY g."aggregateUuid") FROM "ResourceProviderAggregate" g
               WHERE g."providerId" = p."providerId") AS aggregates
        FROM picked p
    )
    SELECT rp.id::text AS id, rp.name, rp.generation, rp."parentId"::text AS "parentId", rp."rootId"::text AS "rootId",
           i."resourceClass" AS rc, floor((i.total - i.reserved) * i."allocationRatio" + 1e-9)::int AS cap, i.used,
           tags.traits, tags.aggregates
      FROM tags JOIN "ResourceProvider" rp ON rp.id = tags."providerId"
      JOIN "PlacementInventory" i ON i."providerId" = rp.id
     ORDER BY rp.id, i."resourceClass"`);
  const providerSummaries: Record<string, ProviderSummary> = {};
  const order: string[] = [];
  for (const row of rows) {
    let summary = providerSummaries[row.id];
    if (!summary) {
      summary = {
        uuid: row.id,
        name: row.name,
        generation: row.generation,
        parentProviderUuid: row.parentId,
        rootProviderUuid: row.rootId,
        resources: {},
        traits: row.traits ?? [],
        aggregates: row.aggregates ?? [],
      };
      providerSummaries[row.id] = summary;
      order.push(row.id);
    }
    summary.resources[row.rc] = { capacity: row.cap, used: row.used };
  }
  return {
    allocationRequests: order.map((id) => ({ allocations: [{ providerId: id, resources: { ...q.resources } }] })),
    providerSummaries,
  };
}
