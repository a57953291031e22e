import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { DEFAULT_DOMAIN_ID } from '../identity/store.ts';
import { badRequest } from '../platform/errors.ts';
import { logger } from '../platform/log.ts';
import { receiveImageData } from './data.ts';
import { qemuImgInfo } from './inspect.ts';
import { db, imageEvent, toImage } from './records.ts';
import { imageStore } from './store.ts';
import type { Image } from './types.ts';

/** qemu-img format → Glance disk_format, for the formats a local file is likely in. */
const GLANCE_FORMAT: Record<string, string> = { qcow2: 'qcow2', raw: 'raw', vmdk: 'vmdk', vpc: 'vhd', vhdx: 'vhdx', vdi: 'vdi' };

/**
 * Registers a local disk image file as a public, active image owned by the admin
 * project (for the start command's test image). Idempotent: an active image of that
 * name owned by admin is returned as is; a leftover unfinished one is replaced.
 */
export async function registerTestImage(opts: { path: string; name: string }): Promise<Image> {
  const admin = await db().project.findUnique({ where: { domainId_name: { domainId: DEFAULT_DOMAIN_ID, name: 'admin' } } });
  if (!admin) throw badRequest('The admin project does not exist yet: bootstrap identity first.');
  const existing = await db().image.findMany({ where: { name: opts.name, owner: admin.id }, orderBy: { createdAt: 'asc' } });
  const active = existing.find((r) => r.status === 'active');
  if (active && (await imageStore().exists(active.id))) return toImage(active);
  for (const r of existing) {
    await db().$transaction(async (tx) => {
      await tx.image.delete({ where: { id: r.id } });
      await imageEvent(tx, 'image.deleted', { id: r.id, owner: r.owner, status: 'deleted' });
    });
    await imageStore().delete(r.id);
  }
  const info = await qemuImgInfo(opts.path);
  const diskFormat = GLANCE_FORMAT[info.format];
  if (!diskFormat) throw badRequest(`${opts.path}: unsupported image format ${info.format}.`);
  const size = (await stat(opts.path)).size;
  const row = await db().$transaction(async (tx) => {
    const r = await tx.image.create({
      data: { name: opts.name, owner: admin.id, visibility: 'public', diskFormat, containerFormat: 'bare', tags: ['stratus-test'] },
    });
    await imageEvent(tx, 'image.created', r);
    return r;
  });
  const { image } = await receiveImageData(toImage(row), { imageId: row.id, data: createReadStream(opts.path, { highWaterMark: 1024 * 1024 }), contentLength: size });
  logger().info({ imageId: image.id, name: opts.name, size }, 'test image registered');
  return image;
}
