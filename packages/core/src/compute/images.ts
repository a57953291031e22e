import type { Readable } from 'node:stream';
import type { AuthContext } from '../identity/types.ts';
import { getImage } from '../image/images.ts';
import { imageStore } from '../image/store.ts';
import type { Image } from '../image/types.ts';
import { badRequest, isStratusError } from '../platform/errors.ts';
import { db, isUuid } from './common.ts';

/*
 * What compute needs from the image service: a boot image as the project sees it, and
 * (on the host) a stream of its bytes for the host's image cache. The default backend is
 * the image service's core (getImage with its visibility rules, the image store); tests
 * may register another.
 */
export interface BootImage {
  id: string;
  name: string | null;
  status: string;
  minDiskGb: number;
  minRamMb: number;
  sizeBytes: number | null;
  virtualSizeBytes: number | null;
  diskFormat: string | null;
  checksum?: { algorithm: 'md5' | 'sha256' | 'sha512'; hex: string };
}

export type ImageBytes = string | (() => Readable | Promise<Readable>);

export interface ImageBackend {
  /** The image if it exists and the caller's project may use it. */
  find(ctx: AuthContext, imageId: string): Promise<BootImage | undefined>;
  /** Host side, no caller: the image and where its bytes come from. */
  open(imageId: string): Promise<{ image: BootImage; bytes: ImageBytes }>;
}

function toBootImage(
  r: { status: string } & Pick<
    Image,
    | 'id'
    | 'name'
    | 'minDisk'
    | 'minRam'
    | 'size'
    | 'virtualSize'
    | 'diskFormat'
    | 'osHashAlgo'
    | 'osHashValue'
    | 'checksum'
  >,
): BootImage {
  const algo = r.osHashAlgo;
  const checksum: BootImage['checksum'] =
    r.osHashValue && (algo === 'sha256' || algo === 'sha512' || algo === 'md5')
      ? { algorithm: algo, hex: r.osHashValue }
      : r.checksum
        ? { algorithm: 'md5', hex: r.checksum }
        : undefined;
  return {
    id: r.id,
    name: r.name,
    status: r.status,
    minDiskGb: r.minDisk,
    minRamMb: r.minRam,
    sizeBytes: r.size,
    virtualSizeBytes: r.virtualSize,
    diskFormat: r.diskFormat,
    ...(checksum ? { checksum } : {}),
  };
}

const imageServiceBackend: ImageBackend = {
  async find(ctx, imageId) {
    if (!isUuid(imageId)) return undefined;
    try {
      return toBootImage(await getImage(ctx, { imageId }));
    } catch (err) {
      if (isStratusError(err) && (err.code === 'NotFound' || err.code === 'Forbidden')) return undefined;
      throw err;
    }
  },
  async open(imageId) {
    const r = await db().image.findUnique({ where: { id: imageId } });
    if (r?.status !== 'active') throw badRequest(`Image ${imageId} is not active.`);
    const image = toBootImage({
      ...r,
      size: r.size === null ? null : Number(r.size),
      virtualSize: r.virtualSize === null ? null : Number(r.virtualSize),
    });
    return { image, bytes: async () => (await imageStore().get(r.id)).stream };
  },
};

let backend: ImageBackend = imageServiceBackend;

export function registerImageBackend(b: ImageBackend | undefined): void {
  backend = b ?? imageServiceBackend;
}
export function imageBackend(): ImageBackend {
  return backend;
}
