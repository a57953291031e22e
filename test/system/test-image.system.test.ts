import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * The Stratus test guest image (images/build-test-image.sh): built (cached),
 * booted with qemu-system-x86_64 directly (TCG, 128 MiB, 1 vCPU, no NIC) to
 * STRATUS-BOOT-OK on its serial console, a command typed into the serial
 * shell is answered, and the ACPI power button (QEMU monitor
 * `system_powerdown`) makes it power off so QEMU exits by itself.
 * Timings are printed, never asserted.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const MARKER = 'STRATUS-BOOT-OK';
const BOOT_LIMIT_MS = 180_000;
const STEP_LIMIT_MS = 60_000;

const figures: Record<string, number> = {};
const ms = (t0: number) => Math.round(performance.now() - t0);
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

/** Polls `check` every `intervalMs` until it returns a value; throws with `describe()` on timeout. */
async function poll<T>(check: () => Promise<T | undefined> | T | undefined, limitMs: number, describe: () => Promise<string> | string, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${limitMs / 1000} s: ${await describe()}`);
    await sleep(intervalMs);
  }
}

/** Connects to a unix socket QEMU listens on (it appears shortly after QEMU starts). */
async function connectUnix(path: string, qemu: ChildProcess): Promise<Socket> {
  return poll(
    async () => {
      if (qemu.exitCode !== null) throw new Error(`qemu exited (${qemu.exitCode}) before ${path} appeared`);
      if (!existsSync(path)) return undefined;
      return new Promise<Socket | undefined>((resolve) => {
        const s = connect(path);
        s.once('connect', () => resolve(s));
        s.once('error', () => resolve(undefined));
      });
    },
    30_000,
    () => `no socket ${path}`,
    100,
  );
}

describe.skipIf(process.getuid?.() !== 0)('Stratus test guest image', () => {
  let dir: string;
  let image: string;
  let qemu: ChildProcess | undefined;
  let serial: Socket | undefined;
  let monitor: Socket | undefined;
  let serialOut = '';
  let qemuStderr = '';
  let bootStart = 0;

  const logPath = () => join(dir, 'serial.log');
  const readLog = async () => (existsSync(logPath()) ? readFile(logPath(), 'utf8') : '');
  const tail = async () => `serial log tail:\n${(await readLog()).slice(-2500)}\nqemu stderr: ${qemuStderr.slice(-500)}`;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stratus-test-image-'));
    const t0 = performance.now();
    // Default OUTDIR (${STRATUS_IMAGE_CACHE:-/var/cache/stratus/images}): shared, cached.
    const out = execFileSync(join(root, 'images/build-test-image.sh'), {
      encoding: 'utf8',
      timeout: 15 * 60_000,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    figures.buildOrCacheMs = ms(t0);
    image = out.trim().split('\n').at(-1) ?? '';
    expect(image).toMatch(/\/stratus-test-[0-9a-f]{12}\.qcow2$/);
    // A qcow2 overlay: the cached image stays pristine.
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', image, join(dir, 'disk.qcow2')]);
  });

  afterAll(async () => {
    serial?.destroy();
    monitor?.destroy();
    if (qemu && qemu.exitCode === null && qemu.signalCode === null) {
      qemu.kill('SIGKILL'); // our own child, by PID
      await poll(() => (qemu!.exitCode !== null || qemu!.signalCode !== null ? true : undefined), 30_000, () => 'qemu did not die');
    }
    if (dir) await rm(dir, { recursive: true, force: true });
    console.log('test image figures (ms):', JSON.stringify(figures));
  });

  it('boots to STRATUS-BOOT-OK on the serial console', async () => {
    const args = [
      '-machine', 'accel=tcg', '-m', '128', '-smp', '1',
      '-display', 'none',
      '-chardev', `socket,id=ser0,path=${join(dir, 'serial.sock')},server=on,wait=off,logfile=${logPath()}`,
      '-serial', 'chardev:ser0',
      '-monitor', `unix:${join(dir, 'monitor.sock')},server=on,wait=off`,
      '-drive', `file=${join(dir, 'disk.qcow2')},if=virtio`,
      '-nic', 'none',
    ];
    bootStart = performance.now();
    qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    qemu.stderr!.on('data', (d: Buffer) => (qemuStderr += d.toString()));
    serial = await connectUnix(join(dir, 'serial.sock'), qemu);
    serial.on('data', (d: Buffer) => (serialOut += d.toString('utf8')));

    const log = await poll(
      async () => {
        if (qemu!.exitCode !== null) throw new Error(`qemu exited with ${qemu!.exitCode}; ${await tail()}`);
        const text = await readLog();
        return text.includes(MARKER) ? text : undefined;
      },
      BOOT_LIMIT_MS,
      tail,
    );
    figures.bootToMarkerMs = ms(bootStart);
    expect(log).toMatch(/Stratus test image \S+ \| hostname: \S+ \| ip: none/);
    expect(log).toContain('stratus: no network interface');
  });

  it('answers a command typed into the serial console', async () => {
    expect(serial, 'booted').toBeDefined();
    // The root shell on ttyS0 comes right after the marker: wait for its prompt.
    await poll(async () => (/STRATUS-BOOT-OK[\s\S]*# /.test(await readLog()) ? true : undefined), STEP_LIMIT_MS, tail);
    const n = 1000 + Math.floor(Math.random() * 9000);
    const expected = `answer-${n + 1}`;
    // The typed line is echoed as `echo answer-$((N+1))`; only the shell's output contains the sum.
    const command = `echo answer-$((${n}+1))\n`;
    const t0 = performance.now();
    const seen = () => serialOut.split(/\r?\n/).some((l) => l.trim() === expected);
    let sentAt = 0;
    await poll(
      () => {
        if (seen()) return true;
        if (Date.now() - sentAt > 15_000) {
          serial!.write(command); // (re)type it: input sent before the shell reads may be lost
          sentAt = Date.now();
        }
        return undefined;
      },
      STEP_LIMIT_MS,
      () => `no "${expected}" from the serial shell; received:\n${serialOut.slice(-1500)}`,
    );
    figures.serialRoundTripMs = ms(t0);
    expect(serialOut).toContain(`echo answer-$((${n}+1))`);
  });

  it('powers off on the ACPI power button (system_powerdown) and QEMU exits', async () => {
    expect(qemu, 'booted').toBeDefined();
    const proc = qemu!;
    monitor = await connectUnix(join(dir, 'monitor.sock'), proc);
    const exited = new Promise<number | null>((resolve) => {
      if (proc.exitCode !== null) resolve(proc.exitCode);
      else proc.once('exit', (code) => resolve(code));
    });
    const t0 = performance.now();
    monitor.write('system_powerdown\n');
    let code: number | null | undefined;
    void exited.then((c) => (code = c));
    await poll(() => (code !== undefined ? true : undefined), STEP_LIMIT_MS, async () => `qemu still running after system_powerdown; ${await tail()}`);
    figures.powerdownMs = ms(t0);
    expect(code).toBe(0);
    expect(await readLog()).toContain('stratus: power button pressed');
  });
});
