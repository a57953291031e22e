import { z } from 'zod';
import type { AuthContext } from '../identity/types.ts';
import { loadConfig } from '../platform/config.ts';
import { enforce } from '../policy/index.ts';
import { db } from './records.ts';

/*
 * Per-project image quotas: how many images a project may own and how many bytes of
 * image data. Defaults come from config (imageQuotaImages, imageQuotaBytes); an
 * ImageQuota row overrides them per project. -1 means unlimited.
 */
export interface ImageQuota {
  projectId: string;
  images: number;
  totalBytes: number;
  usage: { images: number; totalBytes: number };
}

export async function effectiveQuota(projectId: string): Promise<{ images: number; totalBytes: number }> {
  const c = loadConfig();
  const row = await db().imageQuota.findUnique({ where: { projectId } });
  return {
    images: row?.images ?? c.imageQuotaImages,
    totalBytes: row?.totalBytes !== null && row?.totalBytes !== undefined ? Number(row.totalBytes) : c.imageQuotaBytes,
  };
}

export async function imageUsage(projectId: string): Promise<{ images: number; totalBytes: number }> {
  const [count, sum] = await Promise.all([
    db().image.count({ where: { owner: projectId } }),
    db().image.aggregate({ where: { owner: projectId }, _sum: { size: true } }),
  ]);
  return { images: count, totalBytes: Number(sum._sum.size ?? 0n) };
}

export async function getImageQuota(ctx: AuthContext, input: { projectId: string }): Promise<ImageQuota> {
  enforce(ctx, 'image:get_quota', { owner: input.projectId });
  const [q, usage] = await Promise.all([effectiveQuota(input.projectId), imageUsage(input.projectId)]);
  return { projectId: input.projectId, ...q, usage };
}

export const SetImageQuotaInput = z.object({
  projectId: z.string().min(1),
  images: z.number().int().min(-1).nullable().optional(),
  totalBytes: z.number().int().min(-1).nullable().optional(),
});

/** Sets (or with null, resets to the default) a project's image quota. */
export async function setImageQuota(ctx: AuthContext, input: z.input<typeof SetImageQuotaInput>): Promise<ImageQuota> {
  const o = SetImageQuotaInput.parse(input);
  enforce(ctx, 'image:set_quota', { owner: o.projectId });
  const data = {
    ...(o.images !== undefined ? { images: o.images } : {}),
    ...(o.totalBytes !== undefined ? { totalBytes: o.totalBytes === null ? null : BigInt(o.totalBytes) } : {}),
  };
  await db().imageQuota.upsert({ where: { projectId: o.projectId }, create: { projectId: o.projectId, ...data }, update: data });
  return getImageQuota(ctx, { projectId: o.projectId });
}

/** Bytes the project may still store (Infinity when unlimited). */
export async function remainingBytes(projectId: string): Promise<number> {
  const [q, u] = await Promise.all([effectiveQuota(projectId), imageUsage(projectId)]);
  return q.totalBytes < 0 ? Number.POSITIVE_INFINITY : Math.max(0, q.totalBytes - u.totalBytes);
}
