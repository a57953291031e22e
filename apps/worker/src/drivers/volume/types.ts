/*
 * The volume backend driver: everything the worker asks of one storage backend on its
 * host. One interface; files made with qemu-img under the state dir (file.ts) is the
 * default implementation. Another backend (LVM, Ceph RBD) is a new file implementing
 * VolumeBackendDriver, not an edit elsewhere.
 *
 * Every method is keyed by the volume's (or snapshot's) uuid and is idempotent: calling
 * it again after a crash, or when the work is done already, succeeds and leaks nothing.
 * Methods that read or write a volume's data assume it is not attached; work on an
 * attached volume goes through LiveDisk (the hypervisor holds the file open).
 */
export type VolumeFormat = 'qcow2' | 'raw';

export interface BackendCapacity {
  totalGb: number;
  freeGb: number;
}

/** What the hypervisor needs to attach a volume on this host. */
export interface VolumeLocation {
  path: string;
  format: VolumeFormat;
}

export interface VolumeBackendDriver {
  /** Driver name as shown on the backend, e.g. 'file'. */
  readonly driver: string;
  capacity(): Promise<BackendCapacity>;
  locate(volumeId: string, format: VolumeFormat): VolumeLocation;

  createBlank(volumeId: string, sizeGb: number, format: VolumeFormat): Promise<void>;
  /** From a local image file (any format qemu-img reads; no backing files). */
  createFromImage(volumeId: string, imagePath: string, sizeGb: number, format: VolumeFormat): Promise<void>;
  createFromSnapshot(volumeId: string, snapshotId: string, sizeGb: number, format: VolumeFormat): Promise<void>;
  cloneVolume(
    volumeId: string,
    sourceId: string,
    sourceFormat: VolumeFormat,
    sizeGb: number,
    format: VolumeFormat,
  ): Promise<void>;
  /** From a raw file (a restored backup); the file is consumed. */
  createFromRaw(volumeId: string, rawPath: string, sizeGb: number, format: VolumeFormat): Promise<void>;
  delete(volumeId: string): Promise<void>;
  /** Grows a detached volume. */
  extend(volumeId: string, newSizeGb: number, format: VolumeFormat): Promise<void>;

  /** A standalone copy of a detached volume. */
  createSnapshot(snapshotId: string, volumeId: string, format: VolumeFormat): Promise<void>;
  snapshotLocation(snapshotId: string): VolumeLocation;
  deleteSnapshot(snapshotId: string): Promise<void>;

  /** A scratch directory on the backend's file system (same device: renames are atomic). */
  scratchDir(): Promise<string>;
}

/** Operations on a disk that a running guest holds open, done through the hypervisor. */
export interface LiveDisk {
  /** Grows the disk `targetDev` of server `serverId` while the guest runs. */
  blockResize(serverId: string, targetDev: string, bytes: number): Promise<void>;
  /**
   * Copies the disk's current content to `destPath` (a point-in-time, crash-consistent
   * copy; the guest keeps running and keeps its disk).
   */
  blockCopy(serverId: string, targetDev: string, destPath: string, format: VolumeFormat): Promise<void>;
  /** True when the server's domain is running or paused (its disks are held open). */
  isRunning(serverId: string): Promise<boolean>;
}

export class VolumeDriverError extends Error {
  override name = 'VolumeDriverError';
  constructor(
    readonly code: 'NotFound' | 'InvalidSpec' | 'Failed',
    message: string,
  ) {
    super(message);
  }
}
