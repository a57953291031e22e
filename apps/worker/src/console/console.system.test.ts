import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { type AuthContext, createConsole, logger } from '@stratus/core';
import { adminContext, projectWithMember, setupIdentityTest } from '@stratus/core/identity/test-support';
import type { PrismaClient } from '@stratus/db';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { testDb, waitFor } from '../../../../test/helpers.ts';
import { handleConsoleUpgrade } from '../../../web/src/server/console-upgrade.ts';
import { ImageCache } from '../drivers/compute/image-cache.ts';
import { LibvirtDriver } from '../drivers/compute/libvirt.ts';
import { BOOT_MARKER, buildTestImage, destroyLeftoverDomains, isRoot } from '../jobs/guest-test-support.ts';
import { type ConsoleProxy, startConsoleProxy } from './proxy.ts';

/*
 * A real guest (images/build-test-image.sh) behind the real console proxy: the VNC path
 * answers the RFB banner, the serial path carries a shell command and its answer, a
 * used token is refused. Also through the web server's same-origin upgrade forwarding.
 * Figures are printed, never asserted.
 */

const PREFIX = 'stratustest-console-';
const STATE_PREFIX = '/tmp/stratus-console-system-';
const HOST = 'stratustest-console-host';
const PROXY_PORT = 20000 + Math.floor(Math.random() * 20000);
const figures: Record<string, number> = {};

/** Leftovers of earlier runs: every domain of this test's prefix (and its state dir). */
const destroyLeftovers = () => destroyLeftoverDomains(PREFIX, STATE_PREFIX, { orphans: true });

/** Opens a websocket; resolves with it once open, or rejects with the HTTP status of a refusal. */
function open(url: string): Promise<{ ws: WebSocket; first: Promise<Buffer> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['binary']);
    const first = new Promise<Buffer>((res) => ws.once('message', (d: Buffer) => res(d)));
    ws.once('open', () => resolve({ ws, first }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

describe.skipIf(!isRoot)('console proxy with a real guest', () => {
  let db: PrismaClient;
  let stateDir: string;
  let driver: LibvirtDriver;
  let proxy: ConsoleProxy;
  let web: Server;
  let webPort = 0;
  let member: AuthContext;
  const uuid = randomUUID();

  beforeAll(async () => {
    await destroyLeftovers();
    ({ db } = await setupIdentityTest(testDb().url, {
      STRATUS_HOST: HOST,
      STRATUS_CONSOLE_PROXY_PORT: String(PROXY_PORT),
      STRATUS_PUBLIC_URL: 'http://127.0.0.1:3999',
    }));
    const admin = await adminContext();
    const m = await projectWithMember(admin);
    member = m.auth.context;

    stateDir = await mkdtemp(STATE_PREFIX);
    await chmod(stateDir, 0o755);
    driver = new LibvirtDriver({ stateDir, namePrefix: PREFIX, pollMs: 250 });
    const built = buildTestImage();
    const base = await new ImageCache({ stateDir }).ensureBaseImage('stratus-test', built);
    await driver.spawn({ uuid, vcpus: 1, memoryMb: 128, rootDiskGb: 1, baseImagePath: base, nics: [], displayName: 'console system test' });
    await db.server.create({
      data: {
        id: uuid,
        name: 'console-test',
        hostname: 'console-test',
        projectId: m.project.id,
        userId: m.user.id,
        flavorId: 'test',
        flavor: { id: 'test', name: 'test', vcpus: 1, ram: 128, disk: 1 },
        imageId: 'stratus-test',
        reservationId: `r-${uuid.slice(0, 8)}`,
        host: HOST,
        node: HOST,
        vmState: 'active',
        powerState: 1,
      },
    });
    proxy = await startConsoleProxy({ host: HOST, listen: '127.0.0.1', port: PROXY_PORT, targets: driver });
    web = createServer((_q, s) => s.end());
    web.on('upgrade', (req, socket, head) => {
      if (!handleConsoleUpgrade(req, socket, head)) socket.destroy();
    });
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', () => r()));
    const a = web.address();
    webPort = typeof a === 'object' && a ? a.port : 0;
  });

  afterAll(async () => {
    await proxy?.close();
    web?.close();
    if (driver) for (const d of await driver.listDomains()) await driver.destroy(d.uuid);
    await destroyLeftovers();
    await db?.server.deleteMany({ where: { id: uuid } });
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
    console.log('console figures (ms):', JSON.stringify(figures));
  });

  it('VNC: the proxy answers the RFB banner, once per token', async () => {
    const t0 = performance.now();
    const c = await createConsole(member, { serverId: uuid, protocol: 'vnc', type: 'novnc' });
    expect(c.url).toBe(`http://127.0.0.1:3999/console/vnc?token=${c.token}`);
    const { ws, first } = await open(`ws://127.0.0.1:${proxy.port}/vnc?token=${c.token}`);
    expect(ws.protocol).toBe('binary');
    expect((await first).toString('latin1')).toBe('RFB 003.008\n');
    figures.mintToBannerMs = Math.round(performance.now() - t0);
    ws.close();

    const warn = vi.spyOn(logger(), 'warn');
    await expect(open(`ws://127.0.0.1:${proxy.port}/vnc?token=${c.token}`)).rejects.toThrow('HTTP 403');
    expect(warn.mock.calls.some((call) => JSON.stringify(call).includes('reused'))).toBe(true);
    warn.mockRestore();
  });

  it('VNC through the web server (same origin), and a serial token is refused on the VNC path', async () => {
    const c = await createConsole(member, { serverId: uuid, protocol: 'vnc', type: 'novnc' });
    const t0 = performance.now();
    const { ws, first } = await open(`ws://127.0.0.1:${webPort}/console/ws/vnc?token=${c.token}`);
    expect((await first).toString('latin1')).toBe('RFB 003.008\n');
    figures.webForwardBannerMs = Math.round(performance.now() - t0);
    ws.close();
    await expect(open(`ws://127.0.0.1:${webPort}/console/ws/vnc?token=${c.token}`)).rejects.toThrow('HTTP 403');

    const s = await createConsole(member, { serverId: uuid, protocol: 'serial', type: 'serial' });
    await expect(open(`ws://127.0.0.1:${proxy.port}/vnc?token=${s.token}`)).rejects.toThrow('HTTP 403');
  });

  it('serial: a command typed through the proxy is answered by the guest', async () => {
    await waitFor(async () => (await driver.consoleLog(uuid)).includes(BOOT_MARKER), { timeoutMs: 300_000, intervalMs: 500, what: BOOT_MARKER });
    const c = await createConsole(member, { serverId: uuid, protocol: 'serial', type: 'serial' });
    const t0 = performance.now();
    const { ws } = await open(`ws://127.0.0.1:${webPort}/console/ws/serial?token=${c.token}`);
    let output = '';
    ws.on('message', (d: Buffer) => {
      output += d.toString('utf8');
    });
    const nonce = randomBytes(4).toString('hex');
    const answer = new RegExp(`^console-42-${nonce}\\r?$`, 'm');
    const deadline = Date.now() + 60_000;
    let tries = 0;
    // QEMU drops input for about a second after a reader attaches: type again until answered.
    while (!answer.test(output)) {
      if (Date.now() > deadline) throw new Error(`no answer on the serial console; got:\n${output.slice(-2000)}`);
      ws.send(`echo console-$((20+22))-${nonce}\r`);
      tries += 1;
      await waitFor(() => answer.test(output), { timeoutMs: 2000, intervalMs: 50 }).catch(() => undefined);
    }
    figures.serialAnswerMs = Math.round(performance.now() - t0);
    figures.serialTries = tries;
    ws.close();
    await expect(open(`ws://127.0.0.1:${proxy.port}/serial?token=${c.token}`)).rejects.toThrow('HTTP 403');
  });
});
