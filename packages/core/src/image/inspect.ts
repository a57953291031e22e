import { execFile } from 'node:child_process';
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import { badRequest } from '../platform/errors.ts';

/*
 * Safety checks on uploaded image data before it is stored. A disk image can point at
 * other files (a qcow2 backing file or external data file, a vmdk descriptor's
 * extents): booting it would hand the guest a host file. And a "raw" image that is
 * really a qcow2 would be probed as qcow2 by a careless consumer. So: look at the
 * header ourselves first (without opening anything else), then ask `qemu-img info`
 * (under a CPU-time and address-space limit and a timeout, since it parses hostile
 * input) and compare what it detects with the declared disk_format.
 */

export interface ImageInfo {
  /** qemu-img's format name: raw, qcow2, vmdk, vpc, vhdx, vdi, parallels, luks, ... */
  format: string;
  virtualSize: number;
  backingFile?: string;
  dataFile?: string;
  vmdkCreateType?: string;
  vmdkExtents?: string[];
}

const QemuInfo = z.object({
  format: z.string(),
  'virtual-size': z.number(),
  'backing-filename': z.string().optional(),
  'full-backing-filename': z.string().optional(),
  'format-specific': z
    .object({
      type: z.string(),
      data: z
        .object({
          'data-file': z.string().optional(),
          'create-type': z.string().optional(),
          extents: z.array(z.object({ filename: z.string() })).optional(),
        })
        .optional(),
    })
    .optional(),
});

export const QEMU_IMG_LIMITS = { addressSpaceBytes: 1024 * 1024 * 1024, cpuSeconds: 30, timeoutMs: 60_000 };

function run(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((res, rej) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (err) rej(new Error(`${stderr.trim() || err.message}`));
      else res(stdout);
    });
  });
}

/** `qemu-img info --output=json` on a local file, resource-limited. */
export async function qemuImgInfo(path: string): Promise<ImageInfo> {
  const l = QEMU_IMG_LIMITS;
  let out: string;
  try {
    out = await run('prlimit', [`--as=${l.addressSpaceBytes}`, `--cpu=${l.cpuSeconds}`, '--', 'qemu-img', 'info', '--output=json', resolve(path)], l.timeoutMs);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw badRequest(`Image data could not be inspected: ${msg.split('\n')[0] ?? ''}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(out);
  } catch {
    throw badRequest('Image data could not be inspected: unexpected qemu-img output.');
  }
  const parsed = QemuInfo.safeParse(json);
  if (!parsed.success) throw badRequest('Image data could not be inspected: unexpected qemu-img output.');
  const i = parsed.data;
  const data = i['format-specific']?.data;
  const backing = i['full-backing-filename'] ?? i['backing-filename'];
  return {
    format: i.format,
    virtualSize: i['virtual-size'],
    ...(backing !== undefined ? { backingFile: backing } : {}),
    ...(data?.['data-file'] !== undefined ? { dataFile: data['data-file'] } : {}),
    ...(data?.['create-type'] !== undefined ? { vmdkCreateType: data['create-type'] } : {}),
    ...(data?.extents ? { vmdkExtents: data.extents.map((e) => e.filename) } : {}),
  };
}

/** What the first bytes say, read without any tool: catches references before qemu-img opens them. */
export function checkHeader(head: Buffer): void {
  // qcow2: "QFI\xfb", version, backing_file_offset (u64 at 8), incompatible_features (v3, u64 at 72).
  if (head.length >= 16 && head.readUInt32BE(0) === 0x514649fb) {
    const version = head.readUInt32BE(4);
    if (head.readBigUInt64BE(8) !== 0n) throw badRequest('Image data rejected: a qcow2 image with a backing file is not allowed.');
    if (version >= 3 && head.length >= 80 && (head.readBigUInt64BE(72) & 4n) !== 0n) {
      throw badRequest('Image data rejected: a qcow2 image with an external data file is not allowed.');
    }
  }
  // A text vmdk descriptor describes extents in other files by definition.
  const text = head.subarray(0, 1024).toString('latin1');
  if (/^\s*#\s*Disk DescriptorFile/i.test(text) || (!text.startsWith('KDMV') && /^\s*createType\s*=/m.test(text.slice(0, 512)))) {
    throw badRequest('Image data rejected: a vmdk descriptor file referring to other files is not allowed.');
  }
}

/** qemu-img's name for each Glance disk_format whose data it recognises. */
const QEMU_FORMAT: Record<string, string> = {
  qcow2: 'qcow2',
  vmdk: 'vmdk',
  vhd: 'vpc',
  vhdx: 'vhdx',
  vdi: 'vdi',
  ploop: 'parallels',
  raw: 'raw',
  iso: 'raw',
  ami: 'raw',
  ari: 'raw',
  aki: 'raw',
};
const VMDK_SAFE_TYPES = new Set(['monolithicSparse', 'streamOptimized']);

/** Throws BadRequest when the data is unsafe or not the declared format. */
export function checkImageFormat(declared: string, info: ImageInfo, path: string): void {
  if (info.backingFile !== undefined) throw badRequest('Image data rejected: an image with a backing file is not allowed.');
  if (info.dataFile !== undefined) throw badRequest('Image data rejected: a qcow2 image with an external data file is not allowed.');
  if (info.format === 'vmdk') {
    if (!info.vmdkCreateType || !VMDK_SAFE_TYPES.has(info.vmdkCreateType)) {
      throw badRequest(`Image data rejected: vmdk create type ${info.vmdkCreateType ?? 'unknown'} is not allowed (monolithicSparse or streamOptimized only).`);
    }
    const self = resolve(path);
    if ((info.vmdkExtents ?? []).some((f) => resolve(path, '..', f) !== self)) {
      throw badRequest('Image data rejected: a vmdk image whose extents are other files is not allowed.');
    }
  }
  const expected = QEMU_FORMAT[declared];
  if (expected === undefined) throw badRequest(`Unsupported disk format ${declared}.`);
  if (info.format !== expected) {
    throw badRequest(`Image data rejected: disk_format is ${declared} but the data is ${info.format === 'raw' ? 'not in that format' : `in ${info.format} format`}.`);
  }
}

/** Header check, then qemu-img: returns what the data is when it is safe and as declared. */
export async function inspectImageFile(path: string, declaredFormat: string): Promise<ImageInfo> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    checkHeader(head.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
  const info = await qemuImgInfo(path);
  checkImageFormat(declaredFormat, info, path);
  return info;
}
