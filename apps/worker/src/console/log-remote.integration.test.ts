import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  type AuthContext,
  CONSOLE_LOG_PATH,
  consoleLogPath,
  createConsole,
  getConsoleOutput,
  readConsoleLogWindow,
  readRemoteLogWindow,
} from '@stratus/core';
import { adminContext, projectWithMember, setupIdentityTest } from '@stratus/core/identity/test-support';
import type { PrismaClient } from '@stratus/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb } from '../../../../test/helpers.ts';
import { type ConsoleProxy, startConsoleProxy } from './proxy.ts';

/*
 * The console log of a server on another host: the API node (this process, host
 * API_HOST) reads it through the console proxy of the server's host (REMOTE, a real proxy
 * on the loopback; a host's proxy is found at <host name>:consoleProxyPort, so the remote
 * host is named by its address). Real PostgreSQL for the single-use `log` tokens.
 */
const API_HOST = 'logremote-api-host';
const REMOTE = '127.0.0.1';
const PROXY_PORT = 20000 + Math.floor(Math.random() * 20000);
const LOG = 'kernel: booting\ninit: starting\nstratus login: ready\n';

let db: PrismaClient;
let proxy: ConsoleProxy | undefined;
let alice: AuthContext;
let bob: AuthContext;
let aliceServer: string;

async function server(ctx: AuthContext, host: string): Promise<string> {
  const id = randomUUID();
  await db.server.create({
    data: {
      id,
      name: `remote-${id.slice(0, 6)}`,
      hostname: 'remote',
      projectId: ctx.projectId ?? '',
      userId: ctx.userId,
      flavorId: 'f',
      flavor: { id: 'f', name: 'f', vcpus: 1, ramMb: 64, diskGb: 1 },
      imageId: 'i',
      reservationId: `r-${id.slice(0, 8)}`,
      host,
      vmState: 'active',
      powerState: 1,
    },
  });
  const p = consoleLogPath(id);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, LOG);
  return id;
}

const tokens = () => db.consoleToken.count({ where: { protocol: 'log' } });
const logUrl = (token: string, lines?: number) =>
  `http://${REMOTE}:${PROXY_PORT}${CONSOLE_LOG_PATH}?token=${encodeURIComponent(token)}${lines === undefined ? '' : `&lines=${lines}`}`;

beforeAll(async () => {
  ({ db } = await setupIdentityTest(testDb().url, {
    STRATUS_HOST: API_HOST,
    STRATUS_CONSOLE_PROXY_PORT: String(PROXY_PORT),
  }));
  const admin = await adminContext();
  alice = (await projectWithMember(admin)).auth.context;
  bob = (await projectWithMember(admin)).auth.context;
  proxy = await startConsoleProxy({
    host: REMOTE,
    listen: REMOTE,
    port: PROXY_PORT,
    logTail: false,
    targets: {
      vncAddress: async () => null,
      serialPty: async () => null,
      consoleLog: async () => '',
    },
  });
  aliceServer = await server(alice, REMOTE);
});

afterAll(async () => {
  await proxy?.close();
});

describe('console log of a server on another host', () => {
  it('is read through that host’s console proxy, for the dashboard window and for Nova’s API', async () => {
    const before = await tokens();
    const w = await readConsoleLogWindow(alice, { serverId: aliceServer, lines: 2 });
    expect(w).toMatchObject({ serverId: aliceServer, text: 'init: starting\nstratus login: ready\n', end: LOG.length });
    expect(w.file).not.toBe('');
    expect(await getConsoleOutput(alice, aliceServer, 1)).toBe('stratus login: ready\n');
    expect(await getConsoleOutput(alice, aliceServer)).toBe(LOG);
    // One single-use token per read, each used.
    expect(await tokens()).toBe(before + 3);
    expect(await db.consoleToken.count({ where: { protocol: 'log', usedAt: null } })).toBe(0);
  });

  it('keeps tenants apart: another project’s server is not found and no token is minted', async () => {
    const before = await tokens();
    await expect(readConsoleLogWindow(bob, { serverId: aliceServer })).rejects.toMatchObject({ code: 'NotFound' });
    await expect(getConsoleOutput(bob, aliceServer)).rejects.toMatchObject({ code: 'NotFound' });
    expect(await tokens()).toBe(before);
  });

  it('the proxy answers only a fresh log token of its own host: garbage, console tokens and reuse get 403', async () => {
    expect((await fetch(logUrl('x'.repeat(43)))).status).toBe(403);
    expect((await fetch(logUrl('not-a-token'))).status).toBe(403);
    const vnc = await createConsole(alice, { serverId: aliceServer, protocol: 'vnc', type: 'novnc' });
    expect((await fetch(logUrl(vnc.token))).status).toBe(403);
    expect((await fetch(logUrl('x'.repeat(43), -1))).status).toBe(400);
    // A token naming this proxy's host for a server that is elsewhere (here: on the API's
    // own host, read locally) is refused: the proxy only serves servers on its host.
    const local = await server(alice, API_HOST);
    expect((await readConsoleLogWindow(alice, { serverId: local })).text).toBe(LOG);
    await expect(
      readRemoteLogWindow({ serverId: local, projectId: alice.projectId ?? '', host: REMOTE }, alice.userId),
    ).rejects.toMatchObject({ code: 'Unavailable', message: expect.stringContaining('answered 403') });
  });

  it('answers Unavailable (503) when the host’s proxy cannot be reached', async () => {
    await proxy?.close();
    proxy = undefined;
    await expect(readConsoleLogWindow(alice, { serverId: aliceServer })).rejects.toMatchObject({
      code: 'Unavailable',
      message: expect.stringContaining(`host ${REMOTE}`),
    });
    await expect(getConsoleOutput(alice, aliceServer)).rejects.toMatchObject({ code: 'Unavailable' });
  });
});
