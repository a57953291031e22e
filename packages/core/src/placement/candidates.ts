import { Prisma } from '@stratus/db';
import { z } from 'zod';
import { badRequest } from '../platform/errors.ts';
import { authorize, db, normalizeUuid, providerFilters, whereClause } from './store.ts';
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
});

interface SummaryRow {
  id: string;
  name: string;
  generation: number;
  parentId: string | null;
  rootId: string;
  rcs: string[];
  caps: number[];
  used: number[];
  traits: string[];
  aggregates: string[];
}

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
  // Resources are matched against one aggregation of usage (not a sum per provider and class).
  const where = whereClause(providerFilters({ ...q, resources: {} }));
  const limit = q.limit !== undefined ? Prisma.sql`LIMIT ${q.limit}` : Prisma.empty;
  const rcs = Object.keys(q.resources);
  const amounts = Object.values(q.resources);
  const rows = await db().$queryRaw<SummaryRow[]>`
    WITH usage AS (
      SELECT "providerId", "resourceClass", SUM(used)::int AS used FROM "PlacementAllocation" GROUP BY 1, 2
    ), inv AS (
      SELECT i."providerId", i."resourceClass", i."minUnit", i."maxUnit", i."stepSize",
             floor((i.total - i.reserved) * i."allocationRatio" + 1e-9)::int AS cap, COALESCE(u.used, 0) AS used
        FROM "PlacementInventory" i LEFT JOIN usage u USING ("providerId", "resourceClass")
    ), fits AS (
      SELECT inv."providerId" FROM inv
        JOIN unnest(${rcs}::text[], ${amounts}::int[]) AS r(rc, amount) ON inv."resourceClass" = r.rc
       WHERE r.amount >= inv."minUnit" AND r.amount <= inv."maxUnit" AND r.amount % inv."stepSize" = 0
         AND inv.used + r.amount <= inv.cap
       GROUP BY 1 HAVING count(*) = ${rcs.length}
    )
    SELECT rp.id::text, rp.name, rp.generation, rp."parentId"::text AS "parentId", rp."rootId"::text AS "rootId",
           array_agg(inv."resourceClass" ORDER BY inv."resourceClass") AS rcs,
           array_agg(inv.cap ORDER BY inv."resourceClass") AS caps,
           array_agg(inv.used ORDER BY inv."resourceClass") AS used,
           COALESCE((SELECT array_agg(t.trait ORDER BY t.trait) FROM "ResourceProviderTrait" t WHERE t."providerId" = rp.id), '{}') AS traits,
           COALESCE((SELECT array_agg(g."aggregateUuid"::text ORDER BY g."aggregateUuid") FROM "ResourceProviderAggregate" g
                      WHERE g."providerId" = rp.id), '{}') AS aggregates
      FROM "ResourceProvider" rp
      JOIN fits ON fits."providerId" = rp.id
      JOIN inv ON inv."providerId" = rp.id
      ${where}
     GROUP BY rp.id
     ORDER BY rp.id ${limit}`;
  const providerSummaries: Record<string, ProviderSummary> = {};
  for (const row of rows) {
    const resources: ProviderSummary['resources'] = {};
    row.rcs.forEach((rc, i) => {
      resources[rc] = { capacity: row.caps[i] ?? 0, used: row.used[i] ?? 0 };
    });
    providerSummaries[row.id] = {
      uuid: row.id,
      name: row.name,
      generation: row.generation,
      parentProviderUuid: row.parentId,
      rootProviderUuid: row.rootId,
      resources,
      traits: row.traits,
      aggregates: row.aggregates,
    };
  }
  return {
    allocationRequests: rows.map((row) => ({ allocations: [{ providerId: row.id, resources: { ...q.resources } }] })),
    providerSummaries,
  };
}
