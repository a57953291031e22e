import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import {
  access,
  chmod,
  copyFile,
  mkdir,
  mkdtemp,
  readFile,
  rename,
  rm,
  stat,
  statfs,
  writeFile,
} from 'node:fs/promises';
import { cpus, machine, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { buildDomainXml, buildVolumeDiskXml, checkTargetDev, uuidSchema } from './domain-xml.ts';
import {
  type ComputeDriver,
  type DomainSummary,
  type HostInfo,
  HypervisorError,
  type HypervisorErrorCode,
  type MigrationSource,
  type HypervisorType,
  PowerState,
  type RebootType,
  type ResizeSpec,
  type SpawnResult,
  type SpawnSpec,
  type StopOptions,
  type StopResult,
  type VolumeAttachSpec,
} from './types.ts';

/*
 * The libvirt/QEMU compute driver. It talks to libvirtd only through `virsh` and to
 * disks only through `qemu-img`, both run with execFile (an argument vector, never a
 * shell string). Domains are named <prefix><uuid> and carry the server's uuid.
 */

export interface RunResult {
  stdout: string;
  stderr: string;
}
export type Runner = (cmd: string, args: readonly string[], opts?: { timeoutMs?: number }) => Promise<RunResult>;

const execFileP = promisify(execFile);

/** Runs a host tool; a failure becomes a HypervisorError classified from its stderr. */
export const runTool: Runner = async (cmd, args, opts = {}) => {
  try {
    const { stdout, stderr } = await execFileP(cmd, [...args], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      timeout: opts.timeoutMs ?? 120_000,
      // Stable English messages: errors are classified by their text.
      env: { ...process.env, LC_ALL: 'C', LANG: 'C' },
    });
    return { stdout, stderr };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string; killed?: boolean; signal?: string };
    const stderr = (e.stderr ?? '').trim();
    const command = [cmd, ...args].join(' ');
    if (e.code === 'ENOENT') throw new HypervisorError('Failed', `${cmd} is not installed`, { command });
    const why = e.killed ? `timed out (${e.signal ?? 'killed'})` : stderr || e.message;
    throw new HypervisorError(classifyError(stderr), `${cmd} ${args[0] ?? ''} failed: ${why}`, { command, stderr });
  }
};

export function classifyError(stderr: string): HypervisorErrorCode {
  if (/failed to get domain|Domain not found|no domain with matching/i.test(stderr)) return 'NotFound';
  if (/Requested operation is not valid|is already active|domain is not running|Domain is not running/i.test(stderr))
    return 'InvalidState';
  return 'Failed';
}

const qemuImgInfoSchema = z.object({
  format: z.string(),
  'virtual-size': z.number(),
  'backing-filename': z.string().optional(),
  'full-backing-filename': z.string().optional(),
});
export type QemuImgInfo = z.infer<typeof qemuImgInfoSchema>;

/** `qemu-img info` of one file; `format` forbids probing when the caller knows it. */
export async function qemuImgInfo(path: string, run: Runner = runTool, format?: string): Promise<QemuImgInfo> {
  const args = ['info', '--output=json', '--force-share', ...(format ? ['-f', format] : []), path];
  const { stdout } = await run('qemu-img', args, { timeoutMs: 60_000 });
  const parsed = qemuImgInfoSchema.safeParse(JSON.parse(stdout));
  if (!parsed.success) throw new HypervisorError('Failed', `unexpected qemu-img info output for ${path}`);
  return parsed.data;
}

// libvirt's virDomainState and the shut-off reason of a managed save.
const LIBVIRT = { NOSTATE: 0, RUNNING: 1, BLOCKED: 2, PAUSED: 3, SHUTDOWN: 4, SHUTOFF: 5, CRASHED: 6, PMSUSPENDED: 7 };
const SHUTOFF_SAVED = 5;

/** Nova's mapping (nova/virt/libvirt/driver.py), plus a managed save reading as SUSPENDED. */
export function toPowerState(state: number, reason: number): PowerState {
  switch (state) {
    case LIBVIRT.RUNNING:
    case LIBVIRT.BLOCKED:
      return PowerState.RUNNING;
    case LIBVIRT.PAUSED:
      return PowerState.PAUSED;
    case LIBVIRT.SHUTDOWN:
      return PowerState.SHUTDOWN;
    case LIBVIRT.SHUTOFF:
      return reason === SHUTOFF_SAVED ? PowerState.SUSPENDED : PowerState.SHUTDOWN;
    case LIBVIRT.CRASHED:
      return PowerState.CRASHED;
    case LIBVIRT.PMSUSPENDED:
      return PowerState.SUSPENDED;
    default:
      return PowerState.NOSTATE;
  }
}

export interface LibvirtState {
  state: number;
  reason: number;
}

/** Parses `virsh domstats --state` output into name → libvirt state and reason. */
export function parseDomstats(out: string): Map<string, LibvirtState> {
  const result = new Map<string, LibvirtState>();
  for (const block of out.split(/^Domain: /m)) {
    const name = /^'(.*)'\s*$/m.exec(block)?.[1];
    const state = /^\s*state\.state=(\d+)\s*$/m.exec(block)?.[1];
    const reason = /^\s*state\.reason=(\d+)\s*$/m.exec(block)?.[1];
    if (name === undefined || state === undefined) continue;
    result.set(name, { state: Number(state), reason: Number(reason ?? 0) });
  }
  return result;
}

/** `virsh vncdisplay` prints host:display ('127.0.0.1:0', '[::1]:3'); the port is 5900 + display. */
export function parseVncDisplay(out: string): { host: string; port: number } | null {
  const line = out.trim().split('\n')[0]?.trim() ?? '';
  const i = line.lastIndexOf(':');
  if (i <= 0) return null;
  const display = Number(line.slice(i + 1));
  if (!Number.isInteger(display) || display < 0) return null;
  const host = line.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  return { host, port: 5900 + display };
}

/** Decides between KVM and TCG from what the host shows; pure, so it can be tested. */
export function chooseHypervisor(probe: {
  devKvmUsable: boolean;
  cpuFlags: readonly string[];
  libvirtKvmDomain: boolean;
}): { type: HypervisorType; reason: string } {
  if (!probe.devKvmUsable) return { type: 'qemu', reason: '/dev/kvm is missing or not accessible' };
  // A /dev/kvm without vmx/svm is a software or paravirtual KVM (e.g. PVM in a nested
  // cloud VM): it opens, libvirt accepts it, and ordinary guests hang while booting.
  if (!probe.cpuFlags.includes('vmx') && !probe.cpuFlags.includes('svm'))
    return { type: 'qemu', reason: 'the CPU shows no hardware virtualisation (vmx/svm)' };
  if (!probe.libvirtKvmDomain) return { type: 'qemu', reason: 'libvirt domain capabilities do not offer kvm' };
  return { type: 'kvm', reason: 'hardware virtualisation available' };
}

interface DiskEntry {
  target: string;
  source: string | undefined;
}

/** The <disk> elements of a domain XML (libvirt's own normalised output). */
export function parseDisks(xml: string): DiskEntry[] {
  const disks: DiskEntry[] = [];
  for (const m of xml.matchAll(/<disk\b[\s\S]*?<\/disk>/g)) {
    const body = m[0];
    const target = /<target\s+dev=['"]([^'"]+)['"]/.exec(body)?.[1];
    const source = /<source\s+(?:file|dev)=['"]([^'"]+)['"]/.exec(body)?.[1];
    if (target !== undefined) disks.push({ target, source: source === undefined ? undefined : xmlUnescape(source) });
  }
  return disks;
}

function xmlUnescape(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&apos;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const GiB = 1024 * 1024 * 1024;

export interface LibvirtDriverOptions {
  /** Instances live in <stateDir>/instances/<uuid>/. */
  stateDir: string;
  /** Domain names are <namePrefix><uuid>; tests use 'stratustest-'. Default 'stratus-'. */
  namePrefix?: string;
  uri?: string;
  /** 'auto' (default) detects KVM; a value forces the domain type. */
  virtType?: 'auto' | HypervisorType;
  /** How often power transitions are polled. */
  pollMs?: number;
  /** Stratus release, shown to guests in SMBIOS. */
  version?: string;
  run?: Runner;
}

export class LibvirtDriver implements ComputeDriver {
  readonly namePrefix: string;
  readonly instancesDir: string;
  private readonly uri: string;
  private readonly pollMs: number;
  private readonly run: Runner;
  private hypervisor: Promise<{ type: HypervisorType; reason: string }> | undefined;

  constructor(private readonly opts: LibvirtDriverOptions) {
    this.namePrefix = opts.namePrefix ?? 'stratus-';
    if (!/^[A-Za-z0-9_.-]{1,27}$/.test(this.namePrefix))
      throw new Error(`invalid domain name prefix ${this.namePrefix}`);
    this.instancesDir = join(opts.stateDir, 'instances');
    this.uri = opts.uri ?? 'qemu:///system';
    this.pollMs = opts.pollMs ?? 500;
    this.run = opts.run ?? runTool;
  }

  domainName(uuid: string): string {
    return `${this.namePrefix}${checkUuid(uuid)}`;
  }

  instanceDir(uuid: string): string {
    return join(this.instancesDir, checkUuid(uuid));
  }

  private virsh(args: readonly string[], timeoutMs?: number): Promise<RunResult> {
    return this.run('virsh', ['-c', this.uri, ...args], { timeoutMs });
  }

  /** Runs virsh and treats the given error codes as "already done". */
  private async virshTolerant(args: readonly string[], tolerate: readonly HypervisorErrorCode[]): Promise<boolean> {
    try {
      await this.virsh(args);
      return true;
    } catch (err) {
      if (err instanceof HypervisorError && tolerate.includes(err.code)) return false;
      throw err;
    }
  }

  /** The hypervisor used for new domains; detected once per driver. */
  hypervisorType(): Promise<{ type: HypervisorType; reason: string }> {
    const forced = this.opts.virtType;
    if (forced && forced !== 'auto') return Promise.resolve({ type: forced, reason: 'configured' });
    this.hypervisor ??= this.detectHypervisor();
    return this.hypervisor;
  }

  private async detectHypervisor(): Promise<{ type: HypervisorType; reason: string }> {
    const devKvmUsable = await access('/dev/kvm', constants.R_OK | constants.W_OK).then(
      () => true,
      () => false,
    );
    const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
    const cpuFlags = /^flags\s*:(.*)$/m.exec(cpuinfo)?.[1]?.trim().split(/\s+/) ?? [];
    let libvirtKvmDomain = false;
    if (devKvmUsable) {
      try {
        const { stdout } = await this.virsh(['domcapabilities', '--virttype', 'kvm']);
        libvirtKvmDomain = /<domain>kvm<\/domain>/.test(stdout);
      } catch {
        libvirtKvmDomain = false;
      }
    }
    return chooseHypervisor({ devKvmUsable, cpuFlags, libvirtKvmDomain });
  }

  async hostInfo(): Promise<HostInfo> {
    await this.ensureInstancesDir();
    const [hv, node, version, fs] = await Promise.all([
      this.hypervisorType(),
      this.virsh(['nodeinfo']),
      this.virsh(['version']),
      statfs(this.instancesDir),
    ]);
    const field = (re: RegExp) => re.exec(node.stdout)?.[1];
    return {
      hypervisorType: hv.type,
      hypervisorVersion: /Running hypervisor:\s*\S+\s+(\S+)/.exec(version.stdout)?.[1] ?? 'unknown',
      libvirtVersion: /Using library:\s*libvirt\s+(\S+)/.exec(version.stdout)?.[1] ?? 'unknown',
      arch: machine(),
      cpuModel: cpus()[0]?.model.trim() ?? (field(/^CPU model:\s*(.+)$/m) || 'unknown'),
      vcpus: Number(field(/^CPU\(s\):\s*(\d+)/m) ?? cpus().length),
      memoryMb: Math.floor(Number(field(/^Memory size:\s*(\d+)\s*KiB/m) ?? 0) / 1024),
      diskGbTotal: Math.floor((fs.blocks * fs.bsize) / GiB),
      diskGbFree: Math.floor((fs.bavail * fs.bsize) / GiB),
    };
  }

  /** QEMU runs as an unprivileged user: it must be able to walk down to the disks. */
  private async ensureInstancesDir(): Promise<void> {
    await mkdir(this.instancesDir, { recursive: true, mode: 0o755 });
    await chmod(this.instancesDir, 0o755);
    const st = await stat(this.opts.stateDir);
    if ((st.mode & 0o001) === 0) await chmod(this.opts.stateDir, (st.mode & 0o7777) | 0o001);
  }

  async spawn(spec: SpawnSpec): Promise<SpawnResult> {
    const name = this.domainName(spec.uuid);
    const dir = this.instanceDir(spec.uuid);
    // Boot from volume: the volume is the root disk and nothing is made here.
    const diskPath = spec.rootVolume?.path ?? join(dir, 'disk');
    await this.ensureInstancesDir();
    await mkdir(dir, { recursive: true, mode: 0o755 });

    let t = performance.now();
    if (!spec.rootVolume && !(await exists(diskPath))) await this.createRootDisk(spec, diskPath);
    const diskMs = performance.now() - t;

    t = performance.now();
    await this.defineDomain(spec, diskPath);
    const defineMs = performance.now() - t;

    t = performance.now();
    const state = await this.powerState(spec.uuid);
    if (state !== PowerState.RUNNING && state !== PowerState.PAUSED) {
      await this.virshTolerant(['start', name], ['InvalidState']);
    }
    const startMs = performance.now() - t;

    return { domainName: name, instanceDir: dir, timings: { diskMs, defineMs, startMs } };
  }

  /** Writes the domain XML beside the disk and defines it (redefining an existing domain only updates it). */
  private async defineDomain(spec: SpawnSpec, diskPath: string): Promise<void> {
    const name = this.domainName(spec.uuid);
    const dir = this.instanceDir(spec.uuid);
    const xml = buildDomainXml({
      name,
      uuid: spec.uuid,
      type: (await this.hypervisorType()).type,
      vcpus: spec.vcpus,
      memoryMb: spec.memoryMb,
      diskPath,
      ...(spec.rootVolume ? { diskFormat: spec.rootVolume.format } : {}),
      serialLogPath: spec.serialLogPath ?? join(dir, 'console.log'),
      nics: spec.nics,
      configDrivePath: spec.configDrivePath,
      displayName: spec.displayName,
      version: this.opts.version,
    });
    // Kept beside the disk for operators; redefining an existing domain only updates it.
    const xmlPath = join(dir, 'libvirt.xml');
    await writeFileAtomic(xmlPath, xml);
    await this.virsh(['define', xmlPath]);
  }

  private async createRootDisk(spec: SpawnSpec, diskPath: string): Promise<void> {
    if (!spec.baseImagePath.startsWith('/')) {
      throw new HypervisorError('InvalidSpec', `base image path must be absolute: ${spec.baseImagePath}`);
    }
    const base = await qemuImgInfo(spec.baseImagePath, this.run);
    const size = spec.rootDiskGb * GiB;
    if (spec.rootDiskGb > 0 && size < base['virtual-size']) {
      throw new HypervisorError(
        'InvalidSpec',
        `flavor root disk ${spec.rootDiskGb} GB is smaller than the image (${Math.ceil(base['virtual-size'] / GiB)} GB)`,
      );
    }
    // Made under a temporary name: an existing `disk` is always a complete one.
    const tmp = `${diskPath}.part`;
    await rm(tmp, { force: true });
    const args = ['create', '-q', '-f', 'qcow2', '-F', base.format, '-b', spec.baseImagePath, tmp];
    if (spec.rootDiskGb > 0) args.push(String(size));
    await this.run('qemu-img', args, { timeoutMs: 120_000 });
    await rename(tmp, diskPath);
  }

  async destroy(uuid: string): Promise<void> {
    const name = this.domainName(uuid);
    // A QEMU that is slow to die makes libvirt report EBUSY: try again briefly.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.virshTolerant(['destroy', name], ['NotFound', 'InvalidState']);
        break;
      } catch (err) {
        if (attempt >= 3) throw err;
        await sleep(1000);
      }
    }
    await this.virshTolerant(
      ['undefine', name, '--managed-save', '--snapshots-metadata', '--checkpoints-metadata', '--nvram'],
      ['NotFound'],
    );
    await rm(this.instanceDir(uuid), { recursive: true, force: true });
  }

  private async requireState(uuid: string): Promise<PowerState> {
    const state = await this.powerState(uuid);
    if (state === PowerState.NOSTATE) throw new HypervisorError('NotFound', `no domain ${this.domainName(uuid)}`);
    return state;
  }

  async start(uuid: string): Promise<void> {
    const state = await this.requireState(uuid);
    if (state === PowerState.RUNNING || state === PowerState.PAUSED) return;
    await this.virshTolerant(['start', this.domainName(uuid)], ['InvalidState']);
  }

  async stop(uuid: string, opts: StopOptions = {}): Promise<StopResult> {
    const name = this.domainName(uuid);
    const state = await this.requireState(uuid);
    if (state === PowerState.SUSPENDED) return { clean: true };
    // A paused guest cannot see the power button.
    if (state !== PowerState.PAUSED && (await this.acpiShutdown(uuid, opts.timeoutSec ?? 60))) return { clean: true };
    await this.virshTolerant(['destroy', name], ['InvalidState']);
    return { clean: false };
  }

  /** Presses the power button (again every 10 s, as Nova does) until the guest is off. */
  private async acpiShutdown(uuid: string, timeoutSec: number): Promise<boolean> {
    const name = this.domainName(uuid);
    const deadline = Date.now() + timeoutSec * 1000;
    let nextPress = 0;
    for (;;) {
      // libvirt's SHUTDOWN ("in shutdown") still has a QEMU process: wait for SHUTOFF.
      const s = await this.libvirtState(uuid);
      if (s === null || s.state === LIBVIRT.SHUTOFF) return true;
      if (Date.now() >= deadline) return false;
      if (Date.now() >= nextPress) {
        await this.virshTolerant(['shutdown', name, '--mode', 'acpi'], ['InvalidState']);
        nextPress = Date.now() + 10_000;
      }
      await sleep(this.pollMs);
    }
  }

  async reboot(uuid: string, type: RebootType, opts: StopOptions = {}): Promise<void> {
    const name = this.domainName(uuid);
    const state = await this.requireState(uuid);
    // Nova's soft reboot: a clean power-off and a fresh start; hard when the guest ignores it.
    if (type === 'SOFT' && state === PowerState.RUNNING && (await this.acpiShutdown(uuid, opts.timeoutSec ?? 60))) {
      await this.virshTolerant(['start', name], ['InvalidState']);
      return;
    }
    // A new QEMU process (not `virsh reset`) so that a wedged emulator is replaced too.
    await this.virshTolerant(['destroy', name], ['InvalidState']);
    await this.virshTolerant(['start', name], ['InvalidState']);
  }

  async pause(uuid: string): Promise<void> {
    const state = await this.requireState(uuid);
    if (state === PowerState.PAUSED) return;
    if (state !== PowerState.RUNNING) throw new HypervisorError('InvalidState', 'only a running server can be paused');
    await this.virsh(['suspend', this.domainName(uuid)]);
  }

  async unpause(uuid: string): Promise<void> {
    const state = await this.requireState(uuid);
    if (state === PowerState.RUNNING) return;
    if (state !== PowerState.PAUSED) throw new HypervisorError('InvalidState', 'only a paused server can be unpaused');
    await this.virsh(['resume', this.domainName(uuid)]);
  }

  async suspend(uuid: string): Promise<void> {
    const state = await this.requireState(uuid);
    if (state === PowerState.SUSPENDED) return;
    if (state !== PowerState.RUNNING && state !== PowerState.PAUSED) {
      throw new HypervisorError('InvalidState', 'only a running or paused server can be suspended');
    }
    await this.virsh(['managedsave', this.domainName(uuid), '--running'], 600_000);
  }

  async resume(uuid: string): Promise<void> {
    const state = await this.requireState(uuid);
    if (state === PowerState.RUNNING) return;
    if (state !== PowerState.SUSPENDED)
      throw new HypervisorError('InvalidState', 'only a suspended server can be resumed');
    await this.virshTolerant(['start', this.domainName(uuid)], ['InvalidState']);
  }

  async powerState(uuid: string): Promise<PowerState> {
    const s = await this.libvirtState(uuid);
    return s ? toPowerState(s.state, s.reason) : PowerState.NOSTATE;
  }

  /** libvirt's own state; null when there is no such domain. */
  private async libvirtState(uuid: string): Promise<LibvirtState | null> {
    const name = this.domainName(uuid);
    try {
      const { stdout } = await this.virsh(['domstats', '--state', name]);
      return parseDomstats(stdout).get(name) ?? null;
    } catch (err) {
      if (err instanceof HypervisorError && err.code === 'NotFound') return null;
      throw err;
    }
  }

  async listDomains(): Promise<DomainSummary[]> {
    const { stdout } = await this.virsh(['domstats', '--state']);
    const result: DomainSummary[] = [];
    for (const [name, s] of parseDomstats(stdout)) {
      if (!name.startsWith(this.namePrefix)) continue;
      const uuid = name.slice(this.namePrefix.length);
      const powerState = toPowerState(s.state, s.reason);
      if (uuidSchema.safeParse(uuid).success) result.push({ uuid, domainName: name, powerState });
    }
    return result;
  }

  /** The domain's serial log file, from its definition; the default path once it is gone. */
  private async serialLogPath(uuid: string): Promise<string> {
    try {
      const { stdout } = await this.virsh(['dumpxml', '--inactive', this.domainName(uuid)]);
      const file = /<serial\b[\s\S]*?<log\s+file=['"]([^'"]+)['"]/.exec(stdout)?.[1];
      if (file !== undefined) return xmlUnescape(file);
    } catch (err) {
      if (!(err instanceof HypervisorError && err.code === 'NotFound')) throw err;
    }
    return join(this.instanceDir(uuid), 'console.log');
  }

  async consoleLog(uuid: string, opts: { tailLines?: number } = {}): Promise<string> {
    let text: string;
    try {
      text = await readFile(await this.serialLogPath(uuid), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw err;
    }
    const n = opts.tailLines;
    if (n === undefined) return text;
    if (n <= 0) return '';
    const lines = text.split('\n');
    const trailing = text.endsWith('\n') ? 1 : 0;
    return lines.slice(Math.max(0, lines.length - trailing - n)).join('\n');
  }

  async vncAddress(uuid: string): Promise<{ host: string; port: number } | null> {
    const state = await this.requireState(uuid);
    if (state !== PowerState.RUNNING && state !== PowerState.PAUSED) return null;
    try {
      const { stdout } = await this.virsh(['vncdisplay', this.domainName(uuid)]);
      return parseVncDisplay(stdout);
    } catch (err) {
      if (err instanceof HypervisorError && err.code === 'InvalidState') return null;
      throw err;
    }
  }

  async serialPty(uuid: string): Promise<string | null> {
    const state = await this.requireState(uuid);
    if (state !== PowerState.RUNNING && state !== PowerState.PAUSED) return null;
    const { stdout } = await this.virsh(['ttyconsole', this.domainName(uuid)]);
    const pty = stdout.trim();
    return pty.startsWith('/dev/') ? pty : null;
  }

  private async domainDisks(uuid: string, live: boolean): Promise<DiskEntry[]> {
    const args = ['dumpxml', ...(live ? [] : ['--inactive']), this.domainName(uuid)];
    return parseDisks((await this.virsh(args)).stdout);
  }

  async attachVolume(uuid: string, spec: VolumeAttachSpec): Promise<void> {
    const name = this.domainName(uuid);
    const state = await this.requireState(uuid);
    const live = state === PowerState.RUNNING || state === PowerState.PAUSED;
    const blockDevice = await stat(spec.path).then(
      (st) => st.isBlockDevice(),
      () => {
        throw new HypervisorError('NotFound', `volume path ${spec.path} does not exist`);
      },
    );
    const xml = buildVolumeDiskXml(spec, { blockDevice });

    // Config and live definitions are brought in line separately, so a retry after a
    // half-done attach finishes it instead of failing on the half that exists.
    const targets: { flag: string; disks: DiskEntry[] }[] = [
      { flag: '--config', disks: await this.domainDisks(uuid, false) },
    ];
    if (live) targets.push({ flag: '--live', disks: await this.domainDisks(uuid, true) });
    const pending: string[] = [];
    for (const { flag, disks } of targets) {
      const existing = disks.find((d) => d.target === spec.targetDev);
      if (!existing) pending.push(flag);
      else if (existing.source !== spec.path) {
        throw new HypervisorError(
          'InvalidState',
          `${spec.targetDev} of ${name} is already in use by ${existing.source}`,
        );
      }
    }
    if (pending.length === 0) return;
    const tmp = await mkdtemp(join(tmpdir(), 'stratus-attach-'));
    try {
      const file = join(tmp, 'disk.xml');
      await writeFile(file, xml);
      for (const flag of pending) await this.virsh(['attach-device', name, file, flag]);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  async detachVolume(uuid: string, targetDev: string, opts: { timeoutSec?: number } = {}): Promise<void> {
    const name = this.domainName(uuid);
    checkTargetDev(targetDev);
    const state = await this.requireState(uuid);
    const live = state === PowerState.RUNNING || state === PowerState.PAUSED;
    if (live && (await this.domainDisks(uuid, true)).some((d) => d.target === targetDev)) {
      await this.virshTolerant(['detach-disk', name, targetDev, '--live'], ['InvalidState']);
      // The guest has to let go of the device; libvirt only waits a few seconds for it.
      const deadline = Date.now() + (opts.timeoutSec ?? 30) * 1000;
      while ((await this.domainDisks(uuid, true)).some((d) => d.target === targetDev)) {
        if (Date.now() >= deadline) {
          throw new HypervisorError('Failed', `the guest of ${name} did not release ${targetDev}`);
        }
        await sleep(this.pollMs);
      }
    }
    if ((await this.domainDisks(uuid, false)).some((d) => d.target === targetDev)) {
      await this.virsh(['detach-disk', name, targetDev, '--config']);
    }
  }

  async resize(uuid: string, spec: ResizeSpec): Promise<void> {
    const state = await this.requireState(uuid);
    if (state !== PowerState.SHUTDOWN)
      throw new HypervisorError('InvalidState', 'only a stopped server can be resized');
    if (!Number.isInteger(spec.vcpus) || spec.vcpus < 1 || !Number.isInteger(spec.memoryMb) || spec.memoryMb < 16) {
      throw new HypervisorError('InvalidSpec', 'vcpus and memoryMb must be positive integers');
    }
    const diskPath = join(this.instanceDir(uuid), 'disk');
    // Boot from volume: no local root disk, only CPU and memory change.
    if (await exists(diskPath)) {
      // The disk before the first resize, for a revert (copied once: a retry keeps it).
      const kept = `${diskPath}${RESIZE_KEPT}`;
      if (!(await exists(kept))) {
        await copyFile(diskPath, `${kept}.part`);
        await rename(`${kept}.part`, kept);
      }
      if (spec.rootDiskGb !== undefined && spec.rootDiskGb > 0) {
        const info = await qemuImgInfo(diskPath, this.run, 'qcow2');
        const size = spec.rootDiskGb * GiB;
        if (size < info['virtual-size']) throw new HypervisorError('InvalidSpec', 'a root disk cannot shrink');
        if (size > info['virtual-size'])
          await this.run('qemu-img', ['resize', '-q', '-f', 'qcow2', diskPath, String(size)]);
      }
    }
    await this.redefine(uuid, spec);
  }

  async confirmResize(uuid: string): Promise<void> {
    await rm(join(this.instanceDir(uuid), `disk${RESIZE_KEPT}`), { force: true });
  }

  async revertResize(uuid: string, spec: ResizeSpec): Promise<void> {
    const state = await this.requireState(uuid);
    if (state !== PowerState.SHUTDOWN)
      throw new HypervisorError('InvalidState', 'only a stopped server can be reverted');
    const diskPath = join(this.instanceDir(uuid), 'disk');
    const kept = `${diskPath}${RESIZE_KEPT}`;
    // Absent when a retry already put it back (or for a volume-backed server).
    if (await exists(kept)) await rename(kept, diskPath);
    await this.redefine(uuid, spec);
  }

  async migrateDiskAndPowerOff(uuid: string): Promise<MigrationSource> {
    const name = this.domainName(uuid);
    const dir = this.instanceDir(uuid);
    const kept = join(dir, MIGRATION_KEPT);
    const state = await this.powerState(uuid);
    if (state !== PowerState.NOSTATE) {
      if (state !== PowerState.SHUTDOWN) await this.stop(uuid);
      // The definition as it is now (a retry after the undefine keeps the first copy).
      const { stdout } = await this.virsh(['dumpxml', '--inactive', name]);
      await writeFileAtomic(kept, stdout);
      await this.virshTolerant(['undefine', name, '--managed-save', '--nvram'], ['NotFound']);
    } else if (!(await exists(kept))) {
      throw new HypervisorError('NotFound', `no domain ${name} to migrate`);
    }
    const diskPath = join(dir, 'disk');
    return { diskPath: (await exists(diskPath)) ? diskPath : null };
  }

  async finishMigration(spec: SpawnSpec & { sourceDiskPath: string | null; start: boolean }): Promise<void> {
    const dir = this.instanceDir(spec.uuid);
    const diskPath = join(dir, 'disk');
    await this.ensureInstancesDir();
    await mkdir(dir, { recursive: true, mode: 0o755 });
    if (spec.sourceDiskPath && !(await exists(diskPath))) {
      if (!spec.sourceDiskPath.startsWith('/') || spec.sourceDiskPath === diskPath)
        throw new HypervisorError('InvalidSpec', `cannot copy the root disk from ${spec.sourceDiskPath}`);
      // Copied under a temporary name: an existing `disk` is always a complete one.
      const tmp = `${diskPath}.part`;
      await rm(tmp, { force: true });
      await copyFile(spec.sourceDiskPath, tmp);
      const info = await qemuImgInfo(tmp, this.run, 'qcow2');
      if (info['backing-filename'] && spec.baseImagePath) {
        // Same image content, this host's cache: only the backing file's name changes.
        const base = await qemuImgInfo(spec.baseImagePath, this.run);
        await this.run('qemu-img', [
          'rebase',
          '-q',
          '-u',
          '-f',
          'qcow2',
          '-F',
          base.format,
          '-b',
          spec.baseImagePath,
          tmp,
        ]);
      }
      await rename(tmp, diskPath);
    } else if (!spec.sourceDiskPath && !spec.rootVolume) {
      throw new HypervisorError('InvalidSpec', 'a migrated server needs its root disk or a root volume');
    }
    await this.defineDomain(spec, spec.rootVolume?.path ?? diskPath);
    if (spec.start) await this.virshTolerant(['start', this.domainName(spec.uuid)], ['InvalidState']);
  }

  async confirmMigration(uuid: string): Promise<void> {
    const dir = this.instanceDir(uuid);
    // Hosts sharing libvirt: the domain of this uuid is the destination's now. Should it
    // still use a file of this directory (a misconfigured shared state dir), keep it.
    const xml = await this.virsh(['dumpxml', '--inactive', this.domainName(uuid)]).then(
      (r) => r.stdout,
      () => '',
    );
    if (parseDisks(xml).some((d) => d.source?.startsWith(`${dir}/`))) return;
    await rm(dir, { recursive: true, force: true });
  }

  async finishRevertMigration(uuid: string, opts: { start: boolean }): Promise<void> {
    const name = this.domainName(uuid);
    const kept = join(this.instanceDir(uuid), MIGRATION_KEPT);
    if ((await this.powerState(uuid)) === PowerState.NOSTATE) {
      if (!(await exists(kept))) throw new HypervisorError('NotFound', `nothing kept to revert ${name} to`);
      await this.virsh(['define', kept]);
    }
    await rm(kept, { force: true });
    if (opts.start) await this.virshTolerant(['start', name], ['InvalidState']);
  }

  /** Rewrites vCPUs and memory of the (stopped) domain's persistent definition. */
  private async redefine(uuid: string, spec: ResizeSpec): Promise<void> {
    const name = this.domainName(uuid);
    const { stdout } = await this.virsh(['dumpxml', '--inactive', name]);
    const xml = resizeDomainXml(stdout, spec);
    const tmp = await mkdtemp(join(tmpdir(), 'stratus-resize-'));
    try {
      const file = join(tmp, 'domain.xml');
      await writeFile(file, xml);
      await this.virsh(['define', file]);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
}

/** Rewrites the CPU and memory of libvirt's own (normalised) domain XML. */
export function resizeDomainXml(xml: string, spec: { vcpus: number; memoryMb: number }): string {
  const kib = spec.memoryMb * 1024;
  const replace = (s: string, re: RegExp, to: string) => {
    if (!re.test(s)) throw new HypervisorError('Failed', `domain XML has no ${re.source}`);
    return s.replace(re, to);
  };
  let out = replace(xml, /<vcpu\b[^>]*>\d+<\/vcpu>/, `<vcpu placement='static'>${spec.vcpus}</vcpu>`);
  out = replace(out, /<memory\b[^>]*>\d+<\/memory>/, `<memory unit='KiB'>${kib}</memory>`);
  out = replace(out, /<currentMemory\b[^>]*>\d+<\/currentMemory>/, `<currentMemory unit='KiB'>${kib}</currentMemory>`);
  return out.replace(
    /<stratus:flavor\b[^>]*\/>/,
    `<stratus:flavor vcpus='${spec.vcpus}' memoryMb='${spec.memoryMb}'/>`,
  );
}

/** The source's domain definition kept by a cold migration until confirm or revert. */
const MIGRATION_KEPT = 'libvirt.xml.pre-migrate';

/** Suffix of the root disk kept by resize until confirm or revert. */
const RESIZE_KEPT = '.pre-resize';

function checkUuid(uuid: string): string {
  // The uuid becomes a path that destroy() removes: it must be exactly a uuid.
  if (!uuidSchema.safeParse(uuid).success) throw new HypervisorError('InvalidSpec', `not a server uuid: ${uuid}`);
  return uuid;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function writeFileAtomic(path: string, data: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}
