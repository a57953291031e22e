import type { Tx } from '@stratus/db';
import type { AuthContext } from '../identity/types.ts';
import { badRequest } from '../platform/errors.ts';
import { enforce } from '../policy/index.ts';
import { cfg, db } from './common.ts';

/*
 * Compute quotas per project (Nova's names). Limits come from ComputeQuota rows, or the
 * defaults in config. Usage is counted from the servers themselves inside the creating
 * transaction, after locking the project's ComputeQuotaLock row: parallel creates in one
 * project queue on that lock, so they can never together exceed a limit.
 */
export const QUOTA_RESOURCES = [
  'instances',
  'cores',
  'ram',
  'key_pairs',
  'server_groups',
  'server_group_members',
  'metadata_items',
] as const;
export type QuotaResource = (typeof QUOTA_RESOURCES)[number];
export type QuotaSet = Record<QuotaResource, number>;

export function defaultQuotas(): QuotaSet {
  const c = cfg();
  return {
    instances: c.quotaInstances,
    cores: c.quotaCores,
    ram: c.quotaRamMb,
    key_pairs: c.quotaKeyPairs,
    server_groups: c.quotaServerGroups,
    server_group_members: c.quotaServerGroupMembers,
    metadata_items: c.quotaMetadataItems,
  };
}

const isResource = (s: string): s is QuotaResource => (QUOTA_RESOURCES as readonly string[]).includes(s);

export async function quotaLimits(projectId: string, tx: Pick<Tx, 'computeQuota'> = db()): Promise<QuotaSet> {
  const out = defaultQuotas();
  for (const r of await tx.computeQuota.findMany({ where: { projectId } })) {
    if (isResource(r.resource)) out[r.resource] = r.hardLimit;
  }
  return out;
}

export interface Usage {
  instances: number;
  cores: number;
  ram: number;
  server_groups: number;
}

export async function quotaUsage(projectId: string, tx: Pick<Tx, '$queryRaw'> = db()): Promise<Usage> {
  const rows = await tx.$queryRaw<
    Array<{ instances: bigint; cores: bigint | null; ram: bigint | null; groups: bigint }>
  >`
    SELECT count(*) AS instances,
           sum(greatest((s.flavor->>'vcpus')::int, COALESCE(m.vcpus, 0))) AS cores,
           sum(greatest((s.flavor->>'ramMb')::int, COALESCE(m.ram, 0))) AS ram,
           (SELECT count(*) FROM "ServerGroup" g WHERE g."projectId" = ${projectId}) AS groups
      FROM "Server" s
      -- A server in the middle of a resize counts with the larger of its two flavors.
      LEFT JOIN LATERAL (
        SELECT max(greatest((m."oldFlavor"->>'vcpus')::int, (m."newFlavor"->>'vcpus')::int)) AS vcpus,
               max(greatest((m."oldFlavor"->>'ramMb')::int, (m."newFlavor"->>'ramMb')::int)) AS ram
          FROM "Migration" m
         WHERE m."serverId" = s.id AND m.status IN ('pre-migrating', 'migrating', 'post-migrating', 'finished', 'reverting')
      ) m ON true
     WHERE s."projectId" = ${projectId} AND NOT s.deleted`;
  const r = rows[0];
  return {
    instances: Number(r?.instances ?? 0),
    cores: Number(r?.cores ?? 0),
    ram: Number(r?.ram ?? 0),
    server_groups: Number(r?.groups ?? 0),
  };
}

/** Locks the project's quota row for the rest of the transaction. */
export async function lockProjectQuota(tx: Tx, projectId: string): Promise<void> {
  await tx.$executeRaw`INSERT INTO "ComputeQuotaLock" ("projectId", "updatedAt") VALUES (${projectId}, now()) ON CONFLICT DO NOTHING`;
  await tx.$queryRaw`SELECT 1 FROM "ComputeQuotaLock" WHERE "projectId" = ${projectId} FOR UPDATE`;
}

export async function showQuotas(ctx: AuthContext, projectId: string): Promise<QuotaSet> {
  enforce(ctx, 'os_compute_api:os-quota-sets:show', { project_id: projectId });
  return quotaLimits(projectId);
}

export async function showQuotaDetail(
  ctx: AuthContext,
  projectId: string,
): Promise<Record<QuotaResource, { limit: number; in_use: number; reserved: number }>> {
  const limits = await showQuotas(ctx, projectId);
  const used = await quotaUsage(projectId);
  const keyPairs = await db().keyPair.count({ where: { userId: ctx.userId } });
  const inUse: Record<QuotaResource, number> = {
    instances: used.instances,
    cores: used.cores,
    ram: used.ram,
    key_pairs: keyPairs,
    server_groups: used.server_groups,
    server_group_members: 0,
    metadata_items: 0,
  };
  const out = {} as Record<QuotaResource, { limit: number; in_use: number; reserved: number }>;
  for (const k of QUOTA_RESOURCES) out[k] = { limit: limits[k], in_use: inUse[k], reserved: 0 };
  return out;
}

export async function updateQuotas(
  ctx: AuthContext,
  projectId: string,
  values: Record<string, unknown>,
): Promise<QuotaSet> {
  enforce(ctx, 'os_compute_api:os-quota-sets:update', { project_id: projectId });
  const updates: Array<[QuotaResource, number]> = [];
  for (const [k, v] of Object.entries(values)) {
    if (k === 'force' || k === 'id') continue;
    if (!isResource(k)) {
      // Nova accepts (and ignores) the deprecated network quotas.
      if (
        [
          'fixed_ips',
          'floating_ips',
          'security_groups',
          'security_group_rules',
          'networks',
          'injected_files',
          'injected_file_content_bytes',
          'injected_file_path_bytes',
        ].includes(k)
      )
        continue;
      throw badRequest(
        `Invalid input for field/attribute quota_set. Additional properties are not allowed ('${k}' was unexpected)`,
      );
    }
    const n = typeof v === 'string' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < -1)
      throw badRequest(`Invalid input for field/attribute ${k}: must be an integer ≥ -1.`);
    updates.push([k, n]);
  }
  await db().$transaction(
    updates.map(([resource, hardLimit]) =>
      db().computeQuota.upsert({
        where: { projectId_resource: { projectId, resource } },
        create: { projectId, resource, hardLimit },
        update: { hardLimit },
      }),
    ),
  );
  return quotaLimits(projectId);
}

export async function revertQuotas(ctx: AuthContext, projectId: string): Promise<void> {
  enforce(ctx, 'os_compute_api:os-quota-sets:delete', { project_id: projectId });
  await db().computeQuota.deleteMany({ where: { projectId } });
}

export function showDefaultQuotas(ctx: AuthContext): QuotaSet {
  enforce(ctx, 'os_compute_api:os-quota-sets:defaults');
  return defaultQuotas();
}
