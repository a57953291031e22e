import type { Tx } from '@stratus/db';
import type { AuthContext } from '../identity/types.ts';
import { badRequest } from '../platform/errors.ts';
import { enforce } from '../policy/index.ts';
import { cfg, db, TX, volumeOverLimit } from './common.ts';

/*
 * Block-storage quotas per project (Cinder's names). Limits come from VolumeQuota rows or
 * the config defaults. Usage is counted from the rows themselves inside the creating
 * transaction after locking the project's VolumeQuotaLock row, so parallel creates in one
 * project queue on that lock and can never together exceed a limit.
 */
export const VOLUME_QUOTA_RESOURCES = [
  'volumes',
  'gigabytes',
  'snapshots',
  'backups',
  'backup_gigabytes',
  'per_volume_gigabytes',
] as const;
export type VolumeQuotaResource = (typeof VOLUME_QUOTA_RESOURCES)[number];
export type VolumeQuotaSet = Record<VolumeQuotaResource, number>;

export function defaultVolumeQuotas(): VolumeQuotaSet {
  const c = cfg();
  return {
    volumes: c.quotaVolumes,
    gigabytes: c.quotaVolumeGigabytes,
    snapshots: c.quotaSnapshots,
    backups: c.quotaBackups,
    backup_gigabytes: c.quotaBackupGigabytes,
    per_volume_gigabytes: c.quotaPerVolumeGigabytes,
  };
}

const isResource = (s: string): s is VolumeQuotaResource => (VOLUME_QUOTA_RESOURCES as readonly string[]).includes(s);

export async function volumeQuotaLimits(
  projectId: string,
  tx: Pick<Tx, 'volumeQuota'> = db(),
): Promise<VolumeQuotaSet> {
  const out = defaultVolumeQuotas();
  for (const r of await tx.volumeQuota.findMany({ where: { projectId } })) {
    if (isResource(r.resource)) out[r.resource] = r.hardLimit;
  }
  return out;
}

export interface VolumeUsage {
  volumes: number;
  gigabytes: number;
  snapshots: number;
  backups: number;
  backup_gigabytes: number;
}

/** Volumes and snapshots both count against gigabytes, as in Cinder. */
export async function volumeQuotaUsage(projectId: string, tx: Pick<Tx, '$queryRaw'> = db()): Promise<VolumeUsage> {
  const rows = await tx.$queryRaw<
    Array<{ v: bigint; vg: bigint | null; s: bigint; sg: bigint | null; b: bigint; bg: bigint | null }>
  >`
    SELECT (SELECT count(*) FROM "Volume" WHERE "projectId" = ${projectId}) AS v,
           (SELECT sum(size) FROM "Volume" WHERE "projectId" = ${projectId}) AS vg,
           (SELECT count(*) FROM "VolumeSnapshot" WHERE "projectId" = ${projectId}) AS s,
           (SELECT sum(size) FROM "VolumeSnapshot" WHERE "projectId" = ${projectId}) AS sg,
           (SELECT count(*) FROM "VolumeBackup" WHERE "projectId" = ${projectId}) AS b,
           (SELECT sum(size) FROM "VolumeBackup" WHERE "projectId" = ${projectId}) AS bg`;
  const r = rows[0];
  return {
    volumes: Number(r?.v ?? 0),
    gigabytes: Number(r?.vg ?? 0) + Number(r?.sg ?? 0),
    snapshots: Number(r?.s ?? 0),
    backups: Number(r?.b ?? 0),
    backup_gigabytes: Number(r?.bg ?? 0),
  };
}

/** Locks the project's quota row for the rest of the transaction. */
export async function lockVolumeQuota(tx: Tx, projectId: string): Promise<void> {
  await tx.$executeRaw`INSERT INTO "VolumeQuotaLock" ("projectId", "updatedAt") VALUES (${projectId}, now()) ON CONFLICT DO NOTHING`;
  await tx.$queryRaw`SELECT 1 FROM "VolumeQuotaLock" WHERE "projectId" = ${projectId} FOR UPDATE`;
}

/**
 * Under the lock: refuses (413, Cinder's message) when adding `want` would pass a limit.
 * Keys absent from `want` are not checked.
 */
export async function checkVolumeQuota(
  tx: Tx,
  projectId: string,
  want: Partial<Record<'volumes' | 'gigabytes' | 'snapshots' | 'backups' | 'backup_gigabytes', number>>,
  perVolumeGb?: number,
): Promise<void> {
  await lockVolumeQuota(tx, projectId);
  const limits = await volumeQuotaLimits(projectId, tx);
  if (perVolumeGb !== undefined && limits.per_volume_gigabytes >= 0 && perVolumeGb > limits.per_volume_gigabytes) {
    throw volumeOverLimit(
      `Requested volume or snapshot exceeds allowed per_volume_gigabytes quota. Requested ${perVolumeGb}G, quota is ${limits.per_volume_gigabytes}G.`,
    );
  }
  const used = await volumeQuotaUsage(projectId, tx);
  for (const [k, n] of Object.entries(want) as Array<[keyof VolumeUsage, number]>) {
    const lim = limits[k];
    if (lim < 0 || n <= 0) continue;
    if (used[k] + n > lim) {
      if (k === 'gigabytes' || k === 'backup_gigabytes') {
        throw volumeOverLimit(
          `VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed ${k} quota. Requested ${n}G, quota is ${lim}G and ${used[k]}G has been consumed.`,
        );
      }
      throw volumeOverLimit(`Maximum number of ${k} allowed (${lim}) exceeded for quota '${k}'.`);
    }
  }
}

export async function showVolumeQuotas(ctx: AuthContext, projectId: string): Promise<VolumeQuotaSet> {
  enforce(ctx, 'volume_extension:quotas:show', { project_id: projectId });
  return volumeQuotaLimits(projectId);
}

export async function showVolumeQuotaUsage(
  ctx: AuthContext,
  projectId: string,
): Promise<Record<VolumeQuotaResource, { limit: number; in_use: number; reserved: number; allocated: number }>> {
  const limits = await showVolumeQuotas(ctx, projectId);
  const used = await volumeQuotaUsage(projectId);
  const out = {} as Record<VolumeQuotaResource, { limit: number; in_use: number; reserved: number; allocated: number }>;
  for (const k of VOLUME_QUOTA_RESOURCES) {
    out[k] = { limit: limits[k], in_use: k === 'per_volume_gigabytes' ? 0 : used[k], reserved: 0, allocated: 0 };
  }
  return out;
}

export async function updateVolumeQuotas(
  ctx: AuthContext,
  projectId: string,
  values: Record<string, unknown>,
): Promise<VolumeQuotaSet> {
  enforce(ctx, 'volume_extension:quotas:update', { project_id: projectId });
  const updates: Array<[VolumeQuotaResource, number]> = [];
  for (const [k, v] of Object.entries(values)) {
    if (k === 'id' || k === 'tenant_id') continue;
    // Per-type quotas (volumes_<type>, gigabytes_<type>) and groups are accepted and ignored.
    if (!isResource(k)) {
      if (/^(volumes|gigabytes|snapshots)_/.test(k) || k === 'groups') continue;
      throw badRequest(`Bad key(s) in quota set: ${k}`);
    }
    const n = typeof v === 'string' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < -1)
      throw badRequest(`Invalid input for ${k}: must be an integer greater than or equal to -1.`);
    updates.push([k, n]);
  }
  await db().$transaction(async (tx) => {
    for (const [resource, hardLimit] of updates) {
      await tx.volumeQuota.upsert({
        where: { projectId_resource: { projectId, resource } },
        create: { projectId, resource, hardLimit },
        update: { hardLimit },
      });
    }
  }, TX);
  return volumeQuotaLimits(projectId);
}

export async function revertVolumeQuotas(ctx: AuthContext, projectId: string): Promise<void> {
  enforce(ctx, 'volume_extension:quotas:delete', { project_id: projectId });
  await db().volumeQuota.deleteMany({ where: { projectId } });
}

export function showDefaultVolumeQuotas(ctx: AuthContext): VolumeQuotaSet {
  enforce(ctx, 'volume_extension:quotas:show', { project_id: ctx.projectId ?? '' });
  return defaultVolumeQuotas();
}
