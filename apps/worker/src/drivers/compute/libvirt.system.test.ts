import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bootCount,
  buildTestImage,
  destroyLeftoverDomains,
  isRoot,
  runOnSerial,
  waitForNextBoot,
} from '../../jobs/guest-test-support.ts';
import { ImageCache } from './image-cache.ts';
import { LibvirtDriver, runTool } from './libvirt.ts';
import { PowerState } from './types.ts';

/*
 * A real guest on the real libvirtd: the project's test image boots, prints
 * STRATUS-BOOT-OK on its serial console and powers off on the ACPI button.
 * No NICs (networking is the network driver's). Timings are printed, never asserted.
 */

const PREFIX = 'stratustest-';
const STATE_PREFIX = '/tmp/stratus-compute-system-';
const BOOT_LIMIT_MS = 180_000;
const virsh = (...args: string[]) => runTool('virsh', ['-c', 'qemu:///system', ...args]);

const figures: Record<string, number> = {};
const ms = (t0: number) => Math.round(performance.now() - t0);

describe.skipIf(!isRoot)('libvirt compute driver with a real guest', () => {
  let stateDir: string;
  let driver: LibvirtDriver;
  let imagePath: string;
  const uuid = randomUUID();
  const name = `${PREFIX}${uuid}`;

  const log = () => driver.consoleLog(uuid);
  /** Resolves when the console shows one more boot marker than `seen`; returns the new count. */
  const waitForMarker = (seen: number) => waitForNextBoot(log, seen, BOOT_LIMIT_MS);
  const markerCount = async () => bootCount(await log());

  /** Leftovers of earlier runs of this test: domains whose disk lives in one of its state dirs. */
  const destroyLeftovers = () => destroyLeftoverDomains(PREFIX, STATE_PREFIX);

  beforeAll(async () => {
    await destroyLeftovers();
    stateDir = await mkdtemp(STATE_PREFIX);
    await chmod(stateDir, 0o755);
    driver = new LibvirtDriver({ stateDir, namePrefix: PREFIX, pollMs: 250 });
    const built = buildTestImage();
    const t0 = performance.now();
    imagePath = await new ImageCache({ stateDir }).ensureBaseImage('stratus-test', built);
    figures.imageCacheMs = ms(t0);
  });

  afterAll(async () => {
    if (driver) {
      for (const d of await driver.listDomains()) await driver.destroy(d.uuid);
    }
    await destroyLeftovers();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
    if (Object.keys(figures).length > 0) console.log('compute driver figures (ms):', JSON.stringify(figures));
  });

  it('detects the hypervisor instead of assuming it', async () => {
    const info = await driver.hostInfo();
    const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
    const hw = /^flags\s*:.*\b(vmx|svm)\b/m.test(cpuinfo);
    if (!hw) expect(info.hypervisorType).toBe('qemu');
    expect(info.vcpus).toBeGreaterThan(0);
    expect(info.memoryMb).toBeGreaterThan(0);
    expect(info.diskGbFree).toBeGreaterThan(0);
    expect(info.libvirtVersion).toMatch(/^\d+\.\d+/);
    expect(info.hypervisorVersion).toMatch(/^\d+\.\d+/);
    console.log('hostInfo', JSON.stringify(info));
  });

  it('spawns a guest that boots to its marker, with VNC and a serial pty', async () => {
    const t0 = performance.now();
    const r = await driver.spawn({
      uuid,
      vcpus: 1,
      memoryMb: 128,
      rootDiskGb: 1,
      baseImagePath: imagePath,
      nics: [],
      displayName: 'system test <guest>',
    });
    figures.spawnMs = ms(t0);
    figures.overlayMs = Math.round(r.timings.diskMs);
    figures.defineMs = Math.round(r.timings.defineMs);
    figures.startMs = Math.round(r.timings.startMs);
    expect(r.domainName).toBe(name);
    expect(await driver.powerState(uuid)).toBe(PowerState.RUNNING);

    // A second spawn (a retried job) changes nothing and does not fail.
    await driver.spawn({ uuid, vcpus: 1, memoryMb: 128, rootDiskGb: 1, baseImagePath: imagePath, nics: [] });

    await waitForMarker(0);
    figures.bootToMarkerMs = ms(t0);
    expect(await driver.powerState(uuid)).toBe(PowerState.RUNNING);
    expect(await driver.listDomains()).toContainEqual({ uuid, domainName: name, powerState: PowerState.RUNNING });

    const disk = execFileSync('qemu-img', ['info', '--output=json', '-U', join(r.instanceDir, 'disk')], {
      encoding: 'utf8',
    });
    expect(JSON.parse(disk)).toMatchObject({
      format: 'qcow2',
      'virtual-size': 1024 ** 3,
      'backing-filename': imagePath,
    });

    const vnc = await driver.vncAddress(uuid);
    expect(vnc?.host).toBe('127.0.0.1');
    expect(await rfbGreeting(vnc?.host ?? '', vnc?.port ?? 0)).toBe('RFB 003.008\n');

    const pty = await driver.serialPty(uuid);
    expect(pty).toMatch(/^\/dev\/pts\/\d+$/);
    expect(await driver.consoleLog(uuid, { tailLines: 5 })).not.toBe('');
  });

  it('attaches a volume the guest sees with its serial, and detaches it', async () => {
    const vol = join(stateDir, 'vol-test.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', vol, '64M']);
    await chmod(vol, 0o644);
    const t0 = performance.now();
    await driver.attachVolume(uuid, { path: vol, format: 'qcow2', targetDev: 'vdb', serial: 'stratusvol1' });
    figures.attachMs = ms(t0);
    await driver.attachVolume(uuid, { path: vol, format: 'qcow2', targetDev: 'vdb', serial: 'stratusvol1' });
    await runOnSerial(
      await driver.serialPty(uuid),
      'echo VOLSERIAL=$(cat /sys/block/vdb/serial)',
      'VOLSERIAL=stratusvol1',
      log,
    );
    const t1 = performance.now();
    await driver.detachVolume(uuid, 'vdb');
    figures.detachMs = ms(t1);
    const { stdout } = await virsh('dumpxml', name);
    expect(stdout).not.toContain(vol);
  });

  it('reboots hard and soft, the guest booting again each time', async () => {
    let seen = await markerCount();
    let t0 = performance.now();
    await driver.reboot(uuid, 'HARD');
    seen = await waitForMarker(seen);
    figures.hardRebootToMarkerMs = ms(t0);

    t0 = performance.now();
    await driver.reboot(uuid, 'SOFT', { timeoutSec: 120 });
    figures.softRebootCallMs = ms(t0);
    await waitForMarker(seen);
    figures.softRebootToMarkerMs = ms(t0);
    expect(await driver.powerState(uuid)).toBe(PowerState.RUNNING);
  });

  it('stops with the power button, resizes, starts, pauses and unpauses', async () => {
    let t0 = performance.now();
    expect(await driver.stop(uuid, { timeoutSec: 120 })).toEqual({ clean: true });
    figures.acpiStopMs = ms(t0);
    expect(await driver.powerState(uuid)).toBe(PowerState.SHUTDOWN);
    expect(await driver.vncAddress(uuid)).toBeNull();
    expect(await driver.serialPty(uuid)).toBeNull();

    // A new flavor while stopped: more memory, a bigger root disk.
    await driver.resize(uuid, { vcpus: 1, memoryMb: 160, rootDiskGb: 2 });
    const { stdout: xml } = await virsh('dumpxml', '--inactive', name);
    expect(xml).toContain(`<memory unit='KiB'>${160 * 1024}</memory>`);
    const disk = execFileSync('qemu-img', ['info', '--output=json', '-U', join(driver.instanceDir(uuid), 'disk')], {
      encoding: 'utf8',
    });
    expect(JSON.parse(disk)).toMatchObject({ 'virtual-size': 2 * 1024 ** 3 });

    const seen = await markerCount();
    t0 = performance.now();
    await driver.start(uuid);
    figures.restartCallMs = ms(t0);
    await driver.start(uuid);
    expect(await driver.powerState(uuid)).toBe(PowerState.RUNNING);
    await waitForMarker(seen);

    await driver.pause(uuid);
    expect(await driver.powerState(uuid)).toBe(PowerState.PAUSED);
    await driver.unpause(uuid);
    expect(await driver.powerState(uuid)).toBe(PowerState.RUNNING);
  });

  it('suspends to disk and resumes', async () => {
    let t0 = performance.now();
    await driver.suspend(uuid);
    figures.suspendMs = ms(t0);
    expect(await driver.powerState(uuid)).toBe(PowerState.SUSPENDED);
    t0 = performance.now();
    await driver.resume(uuid);
    figures.resumeMs = ms(t0);
    expect(await driver.powerState(uuid)).toBe(PowerState.RUNNING);
    // The restored guest is alive: it still answers on its serial console.
    await runOnSerial(await driver.serialPty(uuid), 'echo ALIVE-$((40+2))', 'ALIVE-42', log);
  });

  it('destroys everything, and destroying again succeeds', async () => {
    const t0 = performance.now();
    await driver.destroy(uuid);
    figures.destroyMs = ms(t0);
    const { stdout } = await virsh('list', '--all', '--name');
    expect(stdout.split('\n').map((l) => l.trim())).not.toContain(name);
    await expect(stat(driver.instanceDir(uuid))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await driver.powerState(uuid)).toBe(PowerState.NOSTATE);
    await driver.destroy(uuid);
  });

  it('cleans up a half-made spawn (disk made, never defined)', async () => {
    const other = randomUUID();
    const dir = driver.instanceDir(other);
    execFileSync('mkdir', ['-p', dir]);
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', imagePath, join(dir, 'disk')]);
    await driver.destroy(other);
    await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

function rfbGreeting(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port });
    let data = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no RFB greeting from ${host}:${port}`));
    }, 30_000);
    sock.on('data', (chunk) => {
      data += chunk.toString('latin1');
      if (data.length >= 12) {
        clearTimeout(timer);
        sock.destroy();
        resolve(data.slice(0, 12));
      }
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
