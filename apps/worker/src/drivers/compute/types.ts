/*
 * The compute driver: everything the worker asks of a hypervisor on its host.
 * One interface; libvirt/QEMU is one implementation (libvirt.ts). Another
 * hypervisor is a new file implementing ComputeDriver, not an edit elsewhere.
 *
 * Every method is keyed by the server's uuid. Methods that change state are
 * idempotent: calling them again after a crash, or when the work is already
 * done, succeeds and leaks nothing.
 */

/** Nova's power states (nova/compute/power_state.py), as stored on a server. */
export const PowerState = {
  NOSTATE: 0,
  RUNNING: 1,
  PAUSED: 3,
  SHUTDOWN: 4,
  CRASHED: 6,
  SUSPENDED: 7,
} as const;
export type PowerState = (typeof PowerState)[keyof typeof PowerState];

export type HypervisorType = 'kvm' | 'qemu';

export interface HostInfo {
  /** 'kvm' only when hardware virtualisation is present and libvirt can use it. */
  hypervisorType: HypervisorType;
  /** Hypervisor version, e.g. '7.2.22' for QEMU. */
  hypervisorVersion: string;
  libvirtVersion: string;
  arch: string;
  cpuModel: string;
  vcpus: number;
  memoryMb: number;
  /** Space of the file system holding the state dir (instances live there). */
  diskGbTotal: number;
  diskGbFree: number;
}

export interface NicSpec {
  /** Guest MAC, e.g. fa:16:3e:12:34:56. */
  mac: string;
  /** Linux bridge the tap is plugged into (made by the network agent). */
  bridge: string;
  /** Host-side tap device libvirt creates; at most 15 characters (IFNAMSIZ). */
  tapName: string;
  mtu?: number;
}

export interface SpawnSpec {
  uuid: string;
  vcpus: number;
  memoryMb: number;
  /** Root disk size; 0 keeps the image's own virtual size (Nova's meaning). */
  rootDiskGb: number;
  /** Absolute path of the host's cached base image (see image-cache.ts). */
  baseImagePath: string;
  /** Boot from volume: this volume is the root disk (baseImagePath is then unused). */
  rootVolume?: { path: string; format: 'raw' | 'qcow2' };
  nics: NicSpec[];
  /** Defaults to <stateDir>/instances/<uuid>/console.log. */
  serialLogPath?: string;
  /** A ready config drive (ISO 9660 or vfat, raw), attached read-only as a CD-ROM. */
  configDrivePath?: string;
  /** Shown in the domain's metadata for operators reading `virsh dumpxml`. */
  displayName?: string;
}

export interface SpawnResult {
  domainName: string;
  instanceDir: string;
  /** Milliseconds per step, for benchmarks and the instance-action log. */
  timings: { diskMs: number; defineMs: number; startMs: number };
}

export interface DomainSummary {
  uuid: string;
  domainName: string;
  powerState: PowerState;
}

export interface StopOptions {
  /** Seconds to wait for the guest to power off after ACPI shutdown; then hard stop. Default 60. */
  timeoutSec?: number;
}

export interface StopResult {
  /** True when the guest powered off by itself; false when it had to be destroyed. */
  clean: boolean;
}

export type RebootType = 'SOFT' | 'HARD';

export interface VolumeAttachSpec {
  /** File or block device on this host. */
  path: string;
  format: 'raw' | 'qcow2';
  /** Guest device name, e.g. 'vdb'. */
  targetDev: string;
  /** Shown to the guest as /sys/block/<dev>/serial (Nova puts the volume id here). */
  serial: string;
  readOnly?: boolean;
}

export interface ResizeSpec {
  vcpus: number;
  memoryMb: number;
  /** Grows the root disk; shrinking is refused. */
  rootDiskGb?: number;
}

export interface ComputeDriver {
  hostInfo(): Promise<HostInfo>;

  /** Root disk, definition and start; each step skips work already done. */
  spawn(spec: SpawnSpec): Promise<SpawnResult>;
  /** Stops and undefines the domain and removes its files; succeeds on anything half-made or gone. */
  destroy(uuid: string): Promise<void>;

  start(uuid: string): Promise<void>;
  stop(uuid: string, opts?: StopOptions): Promise<StopResult>;
  reboot(uuid: string, type: RebootType, opts?: StopOptions): Promise<void>;
  pause(uuid: string): Promise<void>;
  unpause(uuid: string): Promise<void>;
  /** Saves memory to disk and stops the guest (libvirt managed save). */
  suspend(uuid: string): Promise<void>;
  resume(uuid: string): Promise<void>;

  /** NOSTATE when no such domain exists. */
  powerState(uuid: string): Promise<PowerState>;
  /** Every domain of this driver (its name prefix) with its power state, for the sync loop. */
  listDomains(): Promise<DomainSummary[]>;

  /** The serial console output; '' when there is none yet. */
  consoleLog(uuid: string, opts?: { tailLines?: number }): Promise<string>;
  /** The VNC server of a running guest; null when it is not running. */
  vncAddress(uuid: string): Promise<{ host: string; port: number } | null>;
  /** The pty of the serial console of a running guest; null when it is not running. */
  serialPty(uuid: string): Promise<string | null>;

  /** Attaches live (when running) and persistently. */
  attachVolume(uuid: string, spec: VolumeAttachSpec): Promise<void>;
  detachVolume(uuid: string, targetDev: string): Promise<void>;

  /**
   * Changes the flavor of a stopped guest. The root disk as it was before the first
   * resize is kept aside until confirmResize or revertResize (Nova's libvirt driver keeps
   * the instance's `_resize` copy the same way); calling it again keeps that copy.
   */
  resize(uuid: string, spec: ResizeSpec): Promise<void>;
  /** Drops what resize kept for a revert (a no-op when nothing is kept). */
  confirmResize(uuid: string): Promise<void>;
  /**
   * Back to the flavor before the resize, on a stopped guest: the kept root disk replaces
   * the grown one and the domain gets `spec` (the old vCPUs and RAM) again.
   */
  revertResize(uuid: string, spec: ResizeSpec): Promise<void>;

  /*
   * Cold migration between hosts (Nova's migrate_disk_and_power_off / finish_migration /
   * confirm_migration / finish_revert_migration). Hosts on one machine may share libvirt,
   * so a uuid is defined on one host at a time: the source undefines its domain before
   * the destination defines its own, and defines it again on a revert.
   */
  /**
   * Source host: stops the guest, keeps its definition beside its disk and undefines the
   * domain; the instance directory stays (for a revert) until confirmMigration. Returns
   * where the root disk is for the destination to copy (null: no local root disk).
   */
  migrateDiskAndPowerOff(uuid: string): Promise<MigrationSource>;
  /**
   * Destination host: copies the source's root disk into this host's instance directory
   * (its backing file becomes this host's cached base image), defines the domain and
   * starts it when `start`.
   */
  finishMigration(spec: SpawnSpec & { sourceDiskPath: string | null; start: boolean }): Promise<void>;
  /** Source host, after a confirm: removes what it kept; never touches a domain. */
  confirmMigration(uuid: string): Promise<void>;
  /** Source host, after the destination dropped its copy: the kept definition again, started when `start`. */
  finishRevertMigration(uuid: string, opts: { start: boolean }): Promise<void>;
}

export interface MigrationSource {
  /** Absolute path of the stopped guest's root disk on the source host; null when it has none. */
  diskPath: string | null;
}

export type HypervisorErrorCode = 'NotFound' | 'InvalidState' | 'InvalidSpec' | 'Failed';

/** A hypervisor operation failed; `code` says whether a caller may treat it as benign. */
export class HypervisorError extends Error {
  override name = 'HypervisorError';
  constructor(
    readonly code: HypervisorErrorCode,
    message: string,
    readonly detail?: { command?: string; stderr?: string },
  ) {
    super(message);
  }
}
