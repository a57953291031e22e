import { authorize, db, isUuid, normalizeUuid } from './store.ts';
import { type Caller, capacityOf } from './types.ts';

/** One resource class of a provider as an operator reads it: what exists, what may be used, what is. */
export interface ResourceUsage {
  total: number;
  reserved: number;
  allocationRatio: number;
  /** Placement's int((total - reserved) × allocation_ratio): the most that may be allocated. */
  capacity: number;
  used: number;
}

/** A provider's inventories joined with its usages, keyed by resource class. */
export interface ProviderUsageSummary {
  uuid: string;
  name: string;
  generation: number;
  resources: Record<string, ResourceUsage>;
}

interface Row {
  id: string;
  name: string;
  generation: number;
  rc: string | null;
  total: number | null;
  reserved: number | null;
  ratio: number | null;
  used: number | null;
}

/**
 * Inventories and usages of many providers in one query (the hypervisor list asks for
 * every compute node at once), instead of one inventories + one usages call per row.
 * Providers without inventory come back with no resources; unknown uuids are left out.
 */
export async function summarizeProviders(caller: Caller, uuids: string[]): Promise<ProviderUsageSummary[]> {
  authorize(caller, 'placement:resource_providers:inventories:list');
  authorize(caller, 'placement:resource_providers:usages');
  const ids = [...new Set(uuids.filter(isUuid).map(normalizeUuid))];
  if (ids.length === 0) return [];
  const rows = await db().$queryRaw<Row[]>`
    SELECT p.id::text AS id, p.name, p.generation,
           i."resourceClass" AS rc, i.total, i.reserved, i."allocationRatio" AS ratio,
           COALESCE((SELECT SUM(a.used) FROM "PlacementAllocation" a
                      WHERE a."providerId" = i."providerId" AND a."resourceClass" = i."resourceClass"), 0)::int AS used
      FROM "ResourceProvider" p
      LEFT JOIN "PlacementInventory" i ON i."providerId" = p.id
     WHERE p.id = ANY(${ids}::uuid[])
     ORDER BY p.name, i."resourceClass"`;
  const out = new Map<string, ProviderUsageSummary>();
  for (const r of rows) {
    let s = out.get(r.id);
    if (!s) {
      s = { uuid: r.id, name: r.name, generation: r.generation, resources: {} };
      out.set(r.id, s);
    }
    if (r.rc === null || r.total === null) continue;
    const inv = { total: r.total, reserved: r.reserved ?? 0, allocationRatio: r.ratio ?? 1 };
    s.resources[r.rc] = { ...inv, capacity: capacityOf(inv), used: r.used ?? 0 };
  }
  return [...out.values()];
}
