import type { Readable } from 'node:stream';
import type { AuthContext } from '../identity/types.ts';
import { loadConfig } from '../platform/config.ts';
import { badRequest, conflict, forbidden, isStratusError, quotaExceeded, StratusError } from '../platform/errors.ts';
import { logger } from '../platform/log.ts';
import { enforce } from '../policy/index.ts';
import { inspectImageFile, type ImageInfo } from './inspect.ts';
import { isImageAdmin } from './policy.ts';
import { remainingBytes } from './quota.ts';
import { db, findVisible, imageEvent, toImage } from './records.ts';
import { type ByteRange, imageStore, StoreError } from './store.ts';
import type { Image } from './types.ts';

/*
 * Image data: upload (queued → saving → active) and download. The upload streams from
 * the caller's Readable into the store; nothing holds the whole image in memory.
 * Outcomes of a failed upload:
 * - data rejected (unsafe or not the declared format) or over quota: 400/413, the
 *   image goes back to queued so that the client can retry, nothing is stored;
 * - the stream broke (client went away) or the store failed: the image is killed.
 * A second upload while one is running answers 409 (the saving status is the lock,
 * with a heartbeat so that an upload whose process died can be taken over).
 */
export const UPLOAD_HEARTBEAT_MS = 10_000;
export const UPLOAD_STALE_MS = 120_000;

export interface UploadInput {
  imageId: string;
  data: Readable;
  /** Declared length (Content-Length), checked against quota before reading. */
  contentLength?: number;
}

/** What the upload found out, for logs and tests. */
export interface UploadResult {
  image: Image;
  info: ImageInfo;
}

function aborted(message: string): StratusError {
  return new StratusError('BadRequest', message, { aborted: true });
}

export async function uploadImageData(ctx: AuthContext, input: UploadInput): Promise<UploadResult> {
  // The stream may break while we check policy and quota: its error must not go unhandled.
  input.data.on('error', () => {});
  const { image } = await findVisible(ctx, input.imageId);
  enforce(ctx, 'image:upload_image', { owner: image.owner });
  return receiveImageData(image, input);
}

/** The upload itself, after the caller's checks (also used by the seed, without a caller). */
export async function receiveImageData(image: Image, input: UploadInput): Promise<UploadResult> {
  input.data.on('error', () => {});
  const diskFormat = image.diskFormat;
  if (!diskFormat || !image.containerFormat) {
    throw badRequest('Properties disk_format, container_format must be set prior to saving data.');
  }
  const cap = loadConfig().imageSizeCap;
  const remaining = image.owner ? await remainingBytes(image.owner) : Number.POSITIVE_INFINITY;
  const maxBytes = Math.min(cap, remaining);
  const over = () =>
    maxBytes === cap && cap < remaining
      ? quotaExceeded(`Image exceeds the storage limit of ${cap} bytes per image.`)
      : quotaExceeded(`Denying attempt to upload image because it exceeds the image storage quota: ${Math.max(0, remaining)} byte(s) remaining.`);
  if (input.contentLength !== undefined && input.contentLength > maxBytes) throw over();
  if (remaining <= 0) throw over();

  // Claim the image: queued (or a saving one whose uploader stopped beating) → saving.
  const now = new Date();
  const claimed = await db().image.updateMany({
    where: {
      id: image.id,
      OR: [{ status: 'queued' }, { status: 'saving', uploadHeartbeat: { lt: new Date(now.getTime() - UPLOAD_STALE_MS) } }],
    },
    data: { status: 'saving', uploadHeartbeat: now },
  });
  if (claimed.count === 0) {
    const cur = await db().image.findUnique({ where: { id: image.id }, select: { status: true } });
    if (cur?.status === 'saving') throw conflict(`Image ${image.id} is already being uploaded.`);
    throw conflict(`Image status transition from ${cur?.status ?? 'deleted'} to saving is not allowed.`);
  }
  await db().$transaction((tx) => imageEvent(tx, 'image.updated', { id: image.id, owner: image.owner, status: 'saving' }));
  const beat = setInterval(() => {
    void db()
      .image.updateMany({ where: { id: image.id, status: 'saving' }, data: { uploadHeartbeat: new Date() } })
      .catch(() => {});
  }, UPLOAD_HEARTBEAT_MS);
  beat.unref();

  const store = imageStore();
  let info: ImageInfo | undefined;
  try {
    const stored = await store.put(image.id, input.data, {
      maxBytes,
      ...(input.contentLength !== undefined ? { sizeHint: input.contentLength } : {}),
      hashAlgorithm: loadConfig().imageHashAlgorithm,
      inspect: async (tmp) => {
        info = await inspectImageFile(tmp, diskFormat);
      },
    });
    if (!info) throw new Error('image inspection did not run');
    // qemu-img rounds raw sizes up to whole sectors; a raw image is exactly its bytes.
    const virtualSize = info.format === 'raw' ? stored.size : info.virtualSize;
    const row = await db().$transaction(async (tx) => {
      const n = await tx.image.updateMany({
        where: { id: image.id, status: 'saving' },
        data: {
          status: 'active',
          size: BigInt(stored.size),
          virtualSize: BigInt(virtualSize),
          checksum: stored.md5,
          osHashAlgo: stored.osHashAlgo,
          osHashValue: stored.osHashValue,
          location: stored.path,
          uploadHeartbeat: null,
        },
      });
      if (n.count === 0) return null;
      const r = await tx.image.findUniqueOrThrow({ where: { id: image.id } });
      await imageEvent(tx, 'image.updated', r);
      return r;
    });
    if (!row) {
      // Deleted (or taken over) while we were uploading: our data belongs to nobody.
      await store.delete(image.id).catch(() => {});
      throw conflict(`Image ${image.id} was deleted or changed during the upload.`);
    }
    return { image: toImage(row), info };
  } catch (err) {
    const e = classify(err, over);
    const back = e.details?.aborted === true ? 'killed' : 'queued';
    await db()
      .$transaction(async (tx) => {
        const n = await tx.image.updateMany({ where: { id: image.id, status: 'saving' }, data: { status: back, uploadHeartbeat: null } });
        if (n.count > 0) await imageEvent(tx, 'image.updated', { id: image.id, owner: image.owner, status: back });
      })
      .catch((dbErr: unknown) => logger().error({ err: dbErr, imageId: image.id }, 'could not reset image status after a failed upload'));
    if (!isStratusError(err) && !(err instanceof StoreError)) logger().error({ err, imageId: image.id }, 'image upload failed');
    throw e;
  } finally {
    clearInterval(beat);
  }
}

function classify(err: unknown, over: () => StratusError): StratusError {
  if (isStratusError(err)) return err;
  if (err instanceof StoreError) return err.reason === 'limit' ? over() : aborted(`Image upload interrupted: ${err.message}`);
  return new StratusError('Unavailable', 'The image data could not be stored.', { aborted: true });
}

export interface ImageDownload {
  image: Image;
  /** Size of the whole data; null when the image has no data (queued, killed). */
  size: number | null;
  /** Opens the data, or the inclusive byte range of it. */
  open(range?: ByteRange): Promise<Readable>;
}

export async function downloadImageData(ctx: AuthContext, input: { imageId: string }): Promise<ImageDownload> {
  const { image, row } = await findVisible(ctx, input.imageId);
  enforce(ctx, 'image:download_image', { owner: image.owner, visibility: image.visibility });
  if (image.status === 'deactivated' && !isImageAdmin(ctx)) {
    throw forbidden('The requested image has been deactivated. Image data download is prohibited.');
  }
  const hasData = (image.status === 'active' || image.status === 'deactivated') && row.location !== null;
  return {
    image,
    size: hasData ? image.size : null,
    async open(range) {
      if (!hasData) throw badRequest(`Image ${image.id} has no data.`);
      return (await imageStore().get(image.id, range)).stream;
    },
  };
}
