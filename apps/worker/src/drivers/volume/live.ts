import { chmod, rm } from 'node:fs/promises';
import { HypervisorError } from '../compute/types.ts';
import { classifyError, type Runner, runTool } from '../compute/libvirt.ts';
import type { LiveDisk, VolumeFormat } from './types.ts';

/*
 * Disk operations on a running guest through libvirt (virsh), for attached volumes:
 * blockresize grows the disk under the guest (the guest sees the new capacity at once),
 * and blockcopy --finish makes a point-in-time copy while the guest keeps writing to
 * its own disk. The copy is crash-consistent (no guest agent to freeze file systems),
 * like a snapshot of a disk whose machine lost power at that moment.
 */
export interface LibvirtLiveDiskOptions {
  /** The compute driver's domain name prefix (domains are <prefix><server uuid>). */
  namePrefix?: string;
  uri?: string;
  run?: Runner;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DEV = /^vd[a-z]{1,2}$/;

export class LibvirtLiveDisk implements LiveDisk {
  private readonly prefix: string;
  private readonly uri: string;
  private readonly run: Runner;

  constructor(opts: LibvirtLiveDiskOptions = {}) {
    this.prefix = opts.namePrefix ?? 'stratus-';
    this.uri = opts.uri ?? 'qemu:///system';
    this.run = opts.run ?? runTool;
  }

  private domain(serverId: string): string {
    if (!UUID.test(serverId)) throw new HypervisorError('InvalidSpec', `not a server uuid: ${serverId}`);
    return `${this.prefix}${serverId}`;
  }

  private dev(targetDev: string): string {
    const d = targetDev.replace(/^\/dev\//, '');
    if (!DEV.test(d)) throw new HypervisorError('InvalidSpec', `not a virtio disk: ${targetDev}`);
    return d;
  }

  async isRunning(serverId: string): Promise<boolean> {
    try {
      const { stdout } = await this.run('virsh', ['-c', this.uri, 'domstate', this.domain(serverId)]);
      const s = stdout.trim();
      return s === 'running' || s === 'paused' || s === 'idle';
    } catch (err) {
      if (err instanceof HypervisorError && classifyError(err.detail?.stderr ?? '') === 'NotFound') return false;
      throw err;
    }
  }

  async blockResize(serverId: string, targetDev: string, bytes: number): Promise<void> {
    await this.run('virsh', ['-c', this.uri, 'blockresize', this.domain(serverId), this.dev(targetDev), `${bytes}B`]);
  }

  async blockCopy(serverId: string, targetDev: string, destPath: string, format: VolumeFormat): Promise<void> {
    await rm(destPath, { force: true });
    try {
      await this.run(
        'virsh',
        [
          '-c',
          this.uri,
          'blockcopy',
          this.domain(serverId),
          this.dev(targetDev),
          destPath,
          '--format',
          format,
          '--wait',
          '--finish',
          '--transient-job',
        ],
        { timeoutMs: 6 * 3600_000 },
      );
      await chmod(destPath, 0o600);
    } catch (err) {
      await rm(destPath, { force: true });
      throw err;
    }
  }
}
