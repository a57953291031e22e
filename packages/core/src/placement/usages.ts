import { authorize, db, findProvider, normalizeUuid } from './store.ts';
import type { Caller } from './types.ts';

/** Used amount of every resource class the provider has inventory of (0 when nothing is allocated). */
export async function getProviderUsages(
  caller: Caller,
  uuid: string,
): Promise<{ resourceProviderGeneration: number; usages: Record<string, number> }> {
  authorize(caller, 'placement:resource_providers:usages');
  const id = normalizeUuid(uuid);
  return db().$transaction(async (tx) => {
    const rp = await findProvider(tx, id);
    const rows = await tx.$queryRaw<Array<{ rc: string; used: number }>>`
      SELECT i."resourceClass" AS rc, i.used
        FROM "PlacementInventory" i WHERE i."providerId" = ${id}::uuid ORDER BY 1`;
    return { resourceProviderGeneration: rp.generation, usages: Object.fromEntries(rows.map((r) => [r.rc, r.used])) };
  });
}

/** Totals a project (optionally one user of it) holds, per resource class. */
export async function getProjectUsages(
  caller: Caller,
  q: { projectId: string; userId?: string },
): Promise<Record<string, number>> {
  authorize(caller, 'placement:usages', { project_id: q.projectId });
  const rows = q.userId
    ? await db().$queryRaw<Array<{ rc: string; used: number }>>`
        SELECT a."resourceClass" AS rc, SUM(a.used)::int AS used
          FROM "PlacementAllocation" a JOIN "PlacementConsumer" c ON c.id = a."consumerId"
         WHERE c."projectId" = ${q.projectId} AND c."userId" = ${q.userId} GROUP BY 1 ORDER BY 1`
    : await db().$queryRaw<Array<{ rc: string; used: number }>>`
        SELECT a."resourceClass" AS rc, SUM(a.used)::int AS used
          FROM "PlacementAllocation" a JOIN "PlacementConsumer" c ON c.id = a."consumerId"
         WHERE c."projectId" = ${q.projectId} GROUP BY 1 ORDER BY 1`;
  return Object.fromEntries(rows.map((r) => [r.rc, r.used]));
}
