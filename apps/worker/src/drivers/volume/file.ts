import { chmod, mkdir, mkdtemp, rename, rm, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { qemuImgInfo, type Runner, runTool } from '../compute/libvirt.ts';
import {
  type BackendCapacity,
  type VolumeBackendDriver,
  VolumeDriverError,
  type VolumeFormat,
  type VolumeLocation,
} from './types.ts';

/*
 * The file backend: each volume is one qcow2 (or raw) file made with qemu-img under
 * <volumeDir>, named volume-<uuid>; each snapshot a standalone file snapshot-<uuid>.
 * qcow2 files are thin (space grows as the guest writes). Every file appears under its
 * final name only complete: it is made under a .part name and renamed.
 */
const GiB = 1024 ** 3;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const LONG = { timeoutMs: 6 * 3600_000 };

function checkId(id: string): string {
  if (!UUID.test(id)) throw new VolumeDriverError('InvalidSpec', `not a uuid: ${id}`);
  return id;
}

export interface FileBackendOptions {
  /** Where volume files live, e.g. <stateDir>/volumes. */
  dir: string;
  /** The state dir above it: QEMU (an unprivileged user) must be able to walk through. */
  stateDir?: string;
  run?: Runner;
}

export class FileVolumeBackend implements VolumeBackendDriver {
  readonly driver = 'file';
  private readonly run: Runner;

  constructor(private readonly opts: FileBackendOptions) {
    this.run = opts.run ?? runTool;
  }

  private async ensureDir(): Promise<void> {
    await mkdir(this.opts.dir, { recursive: true, mode: 0o755 });
    await chmod(this.opts.dir, 0o755);
    for (const d of [this.opts.stateDir]) {
      if (!d) continue;
      const st = await stat(d).catch(() => undefined);
      if (st && (st.mode & 0o001) === 0) await chmod(d, (st.mode & 0o7777) | 0o001);
    }
  }

  async capacity(): Promise<BackendCapacity> {
    await this.ensureDir();
    const fs = await statfs(this.opts.dir);
    return { totalGb: Math.floor((fs.blocks * fs.bsize) / GiB), freeGb: Math.floor((fs.bavail * fs.bsize) / GiB) };
  }

  volumePath(volumeId: string): string {
    return join(this.opts.dir, `volume-${checkId(volumeId)}`);
  }

  locate(volumeId: string, format: VolumeFormat): VolumeLocation {
    return { path: this.volumePath(volumeId), format };
  }

  snapshotLocation(snapshotId: string): VolumeLocation {
    return { path: join(this.opts.dir, `snapshot-${checkId(snapshotId)}`), format: 'qcow2' };
  }

  async scratchDir(): Promise<string> {
    await this.ensureDir();
    const base = join(this.opts.dir, '.scratch');
    // 0711: QEMU (another user) must reach a live copy's target here; nobody may list.
    await mkdir(base, { recursive: true, mode: 0o711 });
    await chmod(base, 0o711);
    const dir = await mkdtemp(join(base, 'w-'));
    await chmod(dir, 0o711);
    return dir;
  }

  private async exists(path: string): Promise<boolean> {
    return stat(path).then(
      () => true,
      () => false,
    );
  }

  /** Runs `make(tmp)` unless `final` exists, then renames tmp → final. */
  private async produce(final: string, make: (tmp: string) => Promise<void>): Promise<void> {
    if (await this.exists(final)) return;
    await this.ensureDir();
    const tmp = `${final}.part`;
    await rm(tmp, { force: true });
    try {
      await make(tmp);
      await chmod(tmp, 0o600);
      await rename(tmp, final);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async createBlank(volumeId: string, sizeGb: number, format: VolumeFormat): Promise<void> {
    await this.produce(this.volumePath(volumeId), async (tmp) => {
      await this.run('qemu-img', ['create', '-q', '-f', format, tmp, String(sizeGb * GiB)]);
    });
  }

  /** qemu-img convert into the volume's format, then grow to the asked size. */
  private async convertInto(
    src: string,
    srcFormat: string | undefined,
    tmp: string,
    sizeGb: number,
    format: VolumeFormat,
  ) {
    const info = await qemuImgInfo(src, this.run, srcFormat);
    // A backing file inside a source would let a user read any file of this host.
    if (info['backing-filename'] !== undefined)
      throw new VolumeDriverError('InvalidSpec', 'sources with a backing file are not accepted');
    if (info['virtual-size'] > sizeGb * GiB)
      throw new VolumeDriverError(
        'InvalidSpec',
        `the source (${info['virtual-size']} bytes) is larger than ${sizeGb} GB`,
      );
    await this.run(
      'qemu-img',
      [
        'convert',
        '-q',
        '-f',
        info.format,
        '-O',
        format,
        ...(format === 'qcow2' ? ['-o', 'preallocation=off'] : ['-S', '64k']),
        src,
        tmp,
      ],
      LONG,
    );
    if (info['virtual-size'] < sizeGb * GiB)
      await this.run('qemu-img', ['resize', '-q', '-f', format, tmp, String(sizeGb * GiB)]);
  }

  async createFromImage(volumeId: string, imagePath: string, sizeGb: number, format: VolumeFormat): Promise<void> {
    await this.produce(this.volumePath(volumeId), (tmp) => this.convertInto(imagePath, undefined, tmp, sizeGb, format));
  }

  async createFromSnapshot(volumeId: string, snapshotId: string, sizeGb: number, format: VolumeFormat): Promise<void> {
    const snap = this.snapshotLocation(snapshotId);
    if (!(await this.exists(snap.path)))
      throw new VolumeDriverError('NotFound', `snapshot ${snapshotId} has no data here`);
    await this.produce(this.volumePath(volumeId), (tmp) =>
      this.convertInto(snap.path, snap.format, tmp, sizeGb, format),
    );
  }

  async cloneVolume(
    volumeId: string,
    sourceId: string,
    sourceFormat: VolumeFormat,
    sizeGb: number,
    format: VolumeFormat,
  ) {
    const src = this.volumePath(sourceId);
    if (!(await this.exists(src))) throw new VolumeDriverError('NotFound', `volume ${sourceId} has no data here`);
    await this.produce(this.volumePath(volumeId), (tmp) => this.convertInto(src, sourceFormat, tmp, sizeGb, format));
  }

  async createFromRaw(volumeId: string, rawPath: string, sizeGb: number, format: VolumeFormat): Promise<void> {
    const final = this.volumePath(volumeId);
    // A restore over an existing volume replaces its content: write beside it, then rename.
    await this.ensureDir();
    const tmp = `${final}.restore`;
    await rm(tmp, { force: true });
    try {
      await this.convertInto(rawPath, 'raw', tmp, sizeGb, format);
      await chmod(tmp, 0o600);
      await rename(tmp, final);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async delete(volumeId: string): Promise<void> {
    const p = this.volumePath(volumeId);
    await rm(p, { force: true });
    await rm(`${p}.part`, { force: true });
    await rm(`${p}.restore`, { force: true });
  }

  async extend(volumeId: string, newSizeGb: number, format: VolumeFormat): Promise<void> {
    const p = this.volumePath(volumeId);
    const info = await qemuImgInfo(p, this.run, format);
    const size = newSizeGb * GiB;
    if (info['virtual-size'] >= size) return;
    await this.run('qemu-img', ['resize', '-q', '-f', format, p, String(size)]);
  }

  async createSnapshot(snapshotId: string, volumeId: string, format: VolumeFormat): Promise<void> {
    const src = this.volumePath(volumeId);
    const dst = this.snapshotLocation(snapshotId);
    await this.produce(dst.path, async (tmp) => {
      await this.run('qemu-img', ['convert', '-q', '-f', format, '-O', 'qcow2', src, tmp], LONG);
    });
  }

  async deleteSnapshot(snapshotId: string): Promise<void> {
    const p = this.snapshotLocation(snapshotId).path;
    await rm(p, { force: true });
    await rm(`${p}.part`, { force: true });
  }
}
