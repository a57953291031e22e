import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  chooseHypervisor,
  classifyError,
  LibvirtDriver,
  parseDisks,
  parseDomstats,
  parseVncDisplay,
  resizeDomainXml,
  type Runner,
  toPowerState,
} from './libvirt.ts';
import { HypervisorError, PowerState } from './types.ts';

describe('parsers', () => {
  it('maps libvirt states to Nova power states', () => {
    expect(toPowerState(1, 1)).toBe(PowerState.RUNNING);
    expect(toPowerState(2, 0)).toBe(PowerState.RUNNING);
    expect(toPowerState(3, 1)).toBe(PowerState.PAUSED);
    expect(toPowerState(4, 1)).toBe(PowerState.SHUTDOWN);
    expect(toPowerState(5, 2)).toBe(PowerState.SHUTDOWN);
    expect(toPowerState(5, 5)).toBe(PowerState.SUSPENDED);
    expect(toPowerState(6, 0)).toBe(PowerState.CRASHED);
    expect(toPowerState(7, 0)).toBe(PowerState.SUSPENDED);
    expect(toPowerState(0, 0)).toBe(PowerState.NOSTATE);
  });

  it('parses domstats for several domains', () => {
    const out = [
      "Domain: 'stratus-a'",
      '  state.state=1',
      '  state.reason=1',
      '',
      "Domain: 'other'",
      '  state.state=5',
      '  state.reason=5',
      '',
    ].join('\n');
    const m = parseDomstats(out);
    expect(m.get('stratus-a')).toEqual({ state: 1, reason: 1 });
    expect(m.get('other')).toEqual({ state: 5, reason: 5 });
    expect(parseDomstats('').size).toBe(0);
  });

  it('reads VNC displays as ports', () => {
    expect(parseVncDisplay('127.0.0.1:0\n\n')).toEqual({ host: '127.0.0.1', port: 5900 });
    expect(parseVncDisplay('[::1]:12\n')).toEqual({ host: '::1', port: 5912 });
    expect(parseVncDisplay('')).toBeNull();
  });

  it('classifies virsh errors', () => {
    expect(classifyError("error: failed to get domain 'x'")).toBe('NotFound');
    expect(classifyError('error: Requested operation is not valid: domain is not running')).toBe('InvalidState');
    expect(classifyError('error: Domain is already active')).toBe('InvalidState');
    expect(classifyError('error: internal error: process exited')).toBe('Failed');
  });

  it('chooses KVM only with hardware virtualisation that libvirt offers', () => {
    const ok = { devKvmUsable: true, cpuFlags: ['fpu', 'vmx'], libvirtKvmDomain: true };
    expect(chooseHypervisor(ok).type).toBe('kvm');
    expect(chooseHypervisor({ ...ok, cpuFlags: ['svm'] }).type).toBe('kvm');
    expect(chooseHypervisor({ ...ok, devKvmUsable: false }).type).toBe('qemu');
    // This machine: /dev/kvm works and libvirt offers kvm, but it is PVM without vmx/svm.
    expect(chooseHypervisor({ ...ok, cpuFlags: ['fpu', 'hypervisor'] })).toMatchObject({
      type: 'qemu',
      reason: expect.stringContaining('vmx/svm'),
    });
    expect(chooseHypervisor({ ...ok, libvirtKvmDomain: false }).type).toBe('qemu');
  });

  it('finds disks in domain XML', () => {
    const xml = `<devices>
      <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/i/disk'/><target dev='vda' bus='virtio'/></disk>
      <disk type='block' device='disk'><source dev='/dev/loop1'/><target dev='vdb' bus='virtio'/></disk>
      <disk type='file' device='cdrom'><target dev='hdd' bus='ide'/></disk>
    </devices>`;
    expect(parseDisks(xml)).toEqual([
      { target: 'vda', source: '/i/disk' },
      { target: 'vdb', source: '/dev/loop1' },
      { target: 'hdd', source: undefined },
    ]);
  });

  it('rewrites CPU and memory of a definition', () => {
    const xml = `<domain><memory unit='KiB'>131072</memory>
  <currentMemory unit='KiB'>131072</currentMemory>
  <vcpu placement='static' current='1'>2</vcpu><stratus:flavor vcpus="2" memoryMb="128"/></domain>`;
    const out = resizeDomainXml(xml, { vcpus: 4, memoryMb: 512 });
    expect(out).toContain(`<memory unit='KiB'>524288</memory>`);
    expect(out).toContain(`<currentMemory unit='KiB'>524288</currentMemory>`);
    expect(out).toContain(`<vcpu placement='static'>4</vcpu>`);
    expect(out).toContain(`<stratus:flavor vcpus='4' memoryMb='512'/>`);
  });
});

/*
 * A small stand-in for virsh and qemu-img that keeps domains in memory, so the
 * driver's sequencing (idempotency, fallbacks) can be checked without libvirt.
 */
interface FakeDomain {
  state: number;
  reason: number;
  xml: string;
  /** [target, source] of disks attached live and to the definition. */
  liveDisks: [string, string][];
  configDisks?: [string, string][];
}
class FakeHost {
  domains = new Map<string, FakeDomain>();
  calls: string[][] = [];
  /** Whether the guest powers off on the ACPI button. */
  acpiObeyed = true;

  run: Runner = async (cmd, argv) => {
    const args = [...argv];
    this.calls.push([cmd, ...args]);
    if (cmd === 'qemu-img') return this.qemuImg(args);
    if (args[0] !== '-c') throw new Error('virsh without -c');
    const [verb, ...rest] = args.slice(2);
    const fail = (msg: string): never => {
      throw new HypervisorError(classifyError(msg), msg, { stderr: msg });
    };
    const dom = (name: string | undefined) =>
      this.domains.get(name ?? '') ?? fail(`error: failed to get domain '${name}'`);
    const ok = { stdout: '', stderr: '' };
    switch (verb) {
      case 'domcapabilities':
        return { stdout: '<domain>kvm</domain>', stderr: '' };
      case 'define': {
        const xml = await readFile(rest[0] ?? '', 'utf8');
        const name = /<name>([^<]+)<\/name>/.exec(xml)?.[1] ?? '';
        const existing = this.domains.get(name);
        this.domains.set(name, existing ? { ...existing, xml } : { state: 5, reason: 0, xml, liveDisks: [] });
        return ok;
      }
      case 'domstats': {
        const names = rest.filter((a) => !a.startsWith('--'));
        const list = names.length ? names.map((n) => [n, dom(n)] as const) : [...this.domains];
        return {
          stdout: list
            .map(([n, d]) => `Domain: '${n}'\n  state.state=${d.state}\n  state.reason=${d.reason}\n`)
            .join('\n'),
          stderr: '',
        };
      }
      case 'start': {
        const d = dom(rest[0]);
        if (d.state !== 5) fail('error: Domain is already active');
        Object.assign(d, { state: 1, reason: 1 });
        return ok;
      }
      case 'destroy': {
        const d = dom(rest[0]);
        if (d.state === 5) fail('error: Requested operation is not valid: domain is not running');
        Object.assign(d, { state: 5, reason: 2 });
        return ok;
      }
      case 'shutdown': {
        const d = dom(rest[0]);
        if (d.state === 5) fail('error: Requested operation is not valid: domain is not running');
        if (this.acpiObeyed) Object.assign(d, { state: 5, reason: 1 });
        return ok;
      }
      case 'undefine':
        dom(rest[0]);
        this.domains.delete(rest[0] ?? '');
        return ok;
      case 'suspend':
        Object.assign(dom(rest[0]), { state: 3, reason: 1 });
        return ok;
      case 'resume':
        Object.assign(dom(rest[0]), { state: 1, reason: 1 });
        return ok;
      case 'managedsave':
        Object.assign(dom(rest[0]), { state: 5, reason: 5 });
        return ok;
      case 'dumpxml': {
        const name = rest.find((a) => !a.startsWith('--'));
        const d = dom(name);
        const disks = rest.includes('--inactive') ? (d.configDisks ?? []) : d.liveDisks;
        const extra = disks.map(([t, src]) => `<disk type='file'><source file='${src}'/><target dev='${t}'/></disk>`);
        return { stdout: d.xml.replace('</devices>', `${extra.join('')}</devices>`), stderr: '' };
      }
      case 'attach-device': {
        const d = dom(rest[0]);
        const xml = await readFile(rest[1] ?? '', 'utf8');
        const disk: [string, string] = [
          /<target dev='([^']+)'/.exec(xml)?.[1] ?? '',
          /<source file='([^']+)'/.exec(xml)?.[1] ?? '',
        ];
        if (rest[2] === '--live') d.liveDisks.push(disk);
        else d.configDisks = [...(d.configDisks ?? []), disk];
        return ok;
      }
      case 'vncdisplay':
        if (dom(rest[0]).state === 5) fail('error: Domain is not running');
        return { stdout: '127.0.0.1:3\n\n', stderr: '' };
      default:
        return fail(`fake virsh: unsupported ${verb}`);
    }
  };

  private async qemuImg(args: string[]) {
    if (args[0] === 'info') {
      const info = { format: 'qcow2', 'virtual-size': 1024 * 1024 * 1024 };
      return { stdout: JSON.stringify(info), stderr: '' };
    }
    if (args[0] === 'create') {
      const file = args.find((a) => a.endsWith('.part')) ?? '';
      await writeFile(file, 'qcow2 overlay');
      return { stdout: '', stderr: '' };
    }
    throw new Error(`fake qemu-img: unsupported ${args[0]}`);
  }

  verbs(): string[] {
    return this.calls.map((c) => (c[0] === 'virsh' ? (c[3] ?? '') : `qemu-img ${c[1]}`));
  }
}

const uuid = '0b6f4b4e-7c1e-4f7c-9f51-2f1d0a3c9e11';
const name = `stratustest-${uuid}`;

describe('LibvirtDriver with a fake host', () => {
  let stateDir: string;
  let host: FakeHost;
  let driver: LibvirtDriver;
  const spec = () => ({
    uuid,
    vcpus: 1,
    memoryMb: 128,
    rootDiskGb: 2,
    baseImagePath: join(stateDir, 'instances', '_base', 'img'),
    nics: [],
  });

  beforeEach(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'stratus-driver-unit-'));
    host = new FakeHost();
    driver = new LibvirtDriver({ stateDir, namePrefix: 'stratustest-', run: host.run, pollMs: 1, virtType: 'qemu' });
  });
  afterEach(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  it('spawns: overlay disk, definition, start; a second spawn does nothing new', async () => {
    const r = await driver.spawn(spec());
    expect(r.domainName).toBe(name);
    expect(host.domains.get(name)?.state).toBe(1);
    expect(host.verbs()).toEqual(['qemu-img info', 'qemu-img create', 'define', 'domstats', 'start']);
    const create = host.calls.find((c) => c[1] === 'create') ?? [];
    expect(create).toEqual(expect.arrayContaining(['-f', 'qcow2', '-F', 'qcow2', '-b', spec().baseImagePath]));
    expect(create.at(-1)).toBe(String(2 * 1024 ** 3));
    expect((await stat(join(r.instanceDir, 'disk'))).isFile()).toBe(true);
    expect(await readFile(join(r.instanceDir, 'libvirt.xml'), 'utf8')).toContain(`<name>${name}</name>`);

    host.calls = [];
    await driver.spawn(spec());
    expect(host.verbs()).toEqual(['define', 'domstats']);
  });

  it('refuses a root disk smaller than the image', async () => {
    await expect(driver.spawn({ ...spec(), rootDiskGb: 0.5 })).rejects.toMatchObject({ code: 'InvalidSpec' });
  });

  it('destroys a running domain and its files, and succeeds again when all is gone', async () => {
    const r = await driver.spawn(spec());
    await driver.destroy(uuid);
    expect(host.domains.has(name)).toBe(false);
    await expect(stat(r.instanceDir)).rejects.toMatchObject({ code: 'ENOENT' });
    await driver.destroy(uuid);
    expect(host.domains.has(name)).toBe(false);
  });

  it('cleans up after a half-made spawn (files, no domain)', async () => {
    const dir = driver.instanceDir(uuid);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'disk.part'), 'half');
    await driver.destroy(uuid);
    await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses anything but a uuid, since it becomes a path to delete', async () => {
    await expect(driver.destroy('../../etc')).rejects.toMatchObject({ code: 'InvalidSpec' });
    await expect(driver.destroy('')).rejects.toMatchObject({ code: 'InvalidSpec' });
  });

  it('stops with ACPI when the guest obeys', async () => {
    await driver.spawn(spec());
    expect(await driver.stop(uuid, { timeoutSec: 5 })).toEqual({ clean: true });
    expect(await driver.powerState(uuid)).toBe(PowerState.SHUTDOWN);
    expect(host.verbs()).not.toContain('destroy');
    expect(await driver.stop(uuid)).toEqual({ clean: true });
  });

  it('hard-stops a guest that ignores the power button', async () => {
    await driver.spawn(spec());
    host.acpiObeyed = false;
    expect(await driver.stop(uuid, { timeoutSec: 0.05 })).toEqual({ clean: false });
    expect(await driver.powerState(uuid)).toBe(PowerState.SHUTDOWN);
    expect(host.verbs()).toContain('destroy');
  });

  it('soft reboot powers off and starts; falls back to hard when ignored', async () => {
    await driver.spawn(spec());
    host.calls = [];
    await driver.reboot(uuid, 'SOFT', { timeoutSec: 5 });
    expect(host.verbs().filter((v) => ['shutdown', 'destroy', 'start'].includes(v))).toEqual(['shutdown', 'start']);
    host.acpiObeyed = false;
    host.calls = [];
    await driver.reboot(uuid, 'SOFT', { timeoutSec: 0.05 });
    expect(host.verbs().filter((v) => ['shutdown', 'destroy', 'start'].includes(v))).toEqual([
      'shutdown',
      'destroy',
      'start',
    ]);
    expect(await driver.powerState(uuid)).toBe(PowerState.RUNNING);
  });

  it('pauses, suspends and resumes idempotently', async () => {
    await driver.spawn(spec());
    await driver.pause(uuid);
    await driver.pause(uuid);
    expect(await driver.powerState(uuid)).toBe(PowerState.PAUSED);
    await driver.unpause(uuid);
    expect(await driver.powerState(uuid)).toBe(PowerState.RUNNING);
    await driver.suspend(uuid);
    await driver.suspend(uuid);
    expect(await driver.powerState(uuid)).toBe(PowerState.SUSPENDED);
    await driver.resume(uuid);
    await driver.resume(uuid);
    expect(await driver.powerState(uuid)).toBe(PowerState.RUNNING);
    await expect(driver.unpause(uuid)).resolves.toBeUndefined();
  });

  it('reports NOSTATE and NotFound for a missing domain', async () => {
    expect(await driver.powerState(uuid)).toBe(PowerState.NOSTATE);
    await expect(driver.start(uuid)).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('lists only its own domains', async () => {
    await driver.spawn(spec());
    host.domains.set('stratus-0b6f4b4e-7c1e-4f7c-9f51-2f1d0a3c9e11', { state: 1, reason: 1, xml: '', liveDisks: [] });
    host.domains.set('stratustest-not-a-uuid', { state: 1, reason: 1, xml: '', liveDisks: [] });
    host.domains.set('someone-else', { state: 1, reason: 1, xml: '', liveDisks: [] });
    expect(await driver.listDomains()).toEqual([{ uuid, domainName: name, powerState: PowerState.RUNNING }]);
  });

  it('reads the console log, or its tail', async () => {
    await driver.spawn(spec());
    expect(await driver.consoleLog(uuid)).toBe('');
    await writeFile(join(driver.instanceDir(uuid), 'console.log'), 'one\ntwo\nthree\n');
    expect(await driver.consoleLog(uuid)).toBe('one\ntwo\nthree\n');
    expect(await driver.consoleLog(uuid, { tailLines: 2 })).toBe('two\nthree\n');
    expect(await driver.consoleLog(uuid, { tailLines: 10 })).toBe('one\ntwo\nthree\n');
  });

  it('gives the VNC address only while running', async () => {
    await driver.spawn(spec());
    expect(await driver.vncAddress(uuid)).toEqual({ host: '127.0.0.1', port: 5903 });
    await driver.stop(uuid);
    expect(await driver.vncAddress(uuid)).toBeNull();
  });

  it('attaches a volume live and to the config, once', async () => {
    await driver.spawn(spec());
    const vol = join(stateDir, 'vol1');
    await writeFile(vol, '');
    await driver.attachVolume(uuid, { path: vol, format: 'raw', targetDev: 'vdb', serial: 'vol1' });
    const attaches = () => host.calls.filter((c) => c[3] === 'attach-device').map((c) => c.at(-1));
    expect(attaches()).toEqual(['--config', '--live']);
    await driver.attachVolume(uuid, { path: vol, format: 'raw', targetDev: 'vdb', serial: 'vol1' });
    expect(attaches()).toEqual(['--config', '--live']);
    await writeFile(`${vol}x`, '');
    await expect(
      driver.attachVolume(uuid, { path: `${vol}x`, format: 'raw', targetDev: 'vdb', serial: 'vol2' }),
    ).rejects.toMatchObject({ code: 'InvalidState' });
  });
});
