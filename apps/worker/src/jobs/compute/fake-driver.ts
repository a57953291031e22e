import type {
  ComputeDriver,
  DomainSummary,
  HostInfo,
  MigrationSource,
  PowerState as DriverPowerState,
  ResizeSpec,
  SpawnResult,
  SpawnSpec,
  StopResult,
} from '../../drivers/compute/types.ts';
import { HypervisorError, PowerState } from '../../drivers/compute/types.ts';

/*
 * An in-memory ComputeDriver FOR TESTS AND BENCHMARKS ONLY (never wired into the
 * product): domains are map entries. `failSpawn` makes spawn throw (reschedule tests),
 * `hangSpawn` makes it never return (crash tests).
 */
export class FakeComputeDriver implements ComputeDriver {
  readonly domains = new Map<string, { state: DriverPowerState; spec: SpawnSpec; console: string }>();
  failSpawn = false;
  hangSpawn = false;
  spawnCalls = 0;
  destroyCalls = 0;

  /** Source side of cold migrations: the domains handed off, kept until confirm or revert. */
  readonly migratedAway = new Map<string, { state: DriverPowerState; spec: SpawnSpec; console: string }>();
  /** Destination side: the disk each migrated domain was copied from. */
  readonly copiedFrom = new Map<string, string | null>();

  constructor(
    private readonly info: Partial<HostInfo> = {},
    /** Stands for this host's instances directory in the disk paths it reports. */
    readonly name = 'fake',
  ) {}

  async hostInfo(): Promise<HostInfo> {
    return {
      hypervisorType: 'qemu',
      hypervisorVersion: '7.2.0',
      libvirtVersion: '9.0.0',
      arch: 'x86_64',
      cpuModel: 'fake',
      vcpus: 8,
      memoryMb: 32768,
      diskGbTotal: 500,
      diskGbFree: 500,
      ...this.info,
    };
  }
  async spawn(spec: SpawnSpec): Promise<SpawnResult> {
    this.spawnCalls++;
    if (this.hangSpawn) await new Promise(() => {});
    if (this.failSpawn) throw new HypervisorError('Failed', 'fake: spawn failed on purpose');
    const existing = this.domains.get(spec.uuid);
    if (existing) existing.state = PowerState.RUNNING;
    else this.domains.set(spec.uuid, { state: PowerState.RUNNING, spec, console: 'STRATUS-BOOT-OK\n' });
    return {
      domainName: `fake-${spec.uuid}`,
      instanceDir: `/nonexistent/${spec.uuid}`,
      timings: { diskMs: 0, defineMs: 0, startMs: 0 },
    };
  }
  async destroy(uuid: string): Promise<void> {
    this.destroyCalls++;
    this.domains.delete(uuid);
  }
  private dom(uuid: string) {
    const d = this.domains.get(uuid);
    if (!d) throw new HypervisorError('NotFound', `fake: no domain ${uuid}`);
    return d;
  }
  async start(uuid: string) {
    this.dom(uuid).state = PowerState.RUNNING;
  }
  async stop(uuid: string): Promise<StopResult> {
    this.dom(uuid).state = PowerState.SHUTDOWN;
    return { clean: true };
  }
  async reboot(uuid: string) {
    this.dom(uuid).state = PowerState.RUNNING;
  }
  async pause(uuid: string) {
    this.dom(uuid).state = PowerState.PAUSED;
  }
  async unpause(uuid: string) {
    this.dom(uuid).state = PowerState.RUNNING;
  }
  async suspend(uuid: string) {
    this.dom(uuid).state = PowerState.SUSPENDED;
  }
  async resume(uuid: string) {
    this.dom(uuid).state = PowerState.RUNNING;
  }
  async powerState(uuid: string): Promise<DriverPowerState> {
    return this.domains.get(uuid)?.state ?? PowerState.NOSTATE;
  }
  async listDomains(): Promise<DomainSummary[]> {
    return [...this.domains.entries()].map(([uuid, d]) => ({ uuid, domainName: `fake-${uuid}`, powerState: d.state }));
  }
  async consoleLog(uuid: string): Promise<string> {
    return this.domains.get(uuid)?.console ?? '';
  }
  async vncAddress() {
    return null;
  }
  async serialPty() {
    return null;
  }
  async attachVolume() {}
  async detachVolume() {}
  readonly resized = new Map<string, ResizeSpec>();
  async resize(uuid: string, spec: ResizeSpec) {
    const d = this.dom(uuid);
    if (d.state !== PowerState.SHUTDOWN)
      throw new HypervisorError('InvalidState', 'fake: resize needs a stopped domain');
    this.resized.set(uuid, spec);
    d.spec = {
      ...d.spec,
      vcpus: spec.vcpus,
      memoryMb: spec.memoryMb,
      rootDiskGb: spec.rootDiskGb ?? d.spec.rootDiskGb,
    };
  }
  async confirmResize(uuid: string) {
    this.resized.delete(uuid);
  }
  async revertResize(uuid: string, spec: ResizeSpec) {
    const d = this.dom(uuid);
    if (d.state !== PowerState.SHUTDOWN)
      throw new HypervisorError('InvalidState', 'fake: revert needs a stopped domain');
    this.resized.delete(uuid);
    d.spec = {
      ...d.spec,
      vcpus: spec.vcpus,
      memoryMb: spec.memoryMb,
      rootDiskGb: spec.rootDiskGb ?? d.spec.rootDiskGb,
    };
  }

  async migrateDiskAndPowerOff(uuid: string): Promise<MigrationSource> {
    const d = this.domains.get(uuid);
    if (d) {
      d.state = PowerState.SHUTDOWN;
      this.migratedAway.set(uuid, d);
      this.domains.delete(uuid);
    } else if (!this.migratedAway.has(uuid)) throw new HypervisorError('NotFound', `fake: no domain ${uuid}`);
    return { diskPath: `/nonexistent/${this.name}/${uuid}/disk` };
  }
  async finishMigration(spec: SpawnSpec & { sourceDiskPath: string | null; start: boolean }): Promise<void> {
    this.copiedFrom.set(spec.uuid, spec.sourceDiskPath);
    const { sourceDiskPath: _, start, ...rest } = spec;
    this.domains.set(spec.uuid, {
      state: start ? PowerState.RUNNING : PowerState.SHUTDOWN,
      spec: rest,
      console: 'STRATUS-BOOT-OK\n',
    });
  }
  async confirmMigration(uuid: string): Promise<void> {
    this.migratedAway.delete(uuid);
  }
  async finishRevertMigration(uuid: string, opts: { start: boolean }): Promise<void> {
    const kept = this.migratedAway.get(uuid);
    if (!this.domains.has(uuid)) {
      if (!kept) throw new HypervisorError('NotFound', `fake: nothing kept for ${uuid}`);
      this.domains.set(uuid, kept);
    }
    this.migratedAway.delete(uuid);
    const d = this.dom(uuid);
    if (opts.start) d.state = PowerState.RUNNING;
  }
}

/** An image cache that fetches nothing. */
export const fakeImageCache = { ensureBaseImage: async (imageId: string) => `/nonexistent/_base/${imageId}` };
