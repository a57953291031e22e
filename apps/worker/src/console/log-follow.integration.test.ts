import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { authenticate, consoleLogPath, type ConsoleOutputChunk, socketScopeForToken } from '@stratus/core';
import {
  adminContext,
  projectWithMember,
  setupIdentityTest,
  TEST_ADMIN_PASSWORD,
} from '@stratus/core/identity/test-support';
import type { PrismaClient, StratusEvent } from '@stratus/db';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb, waitFor } from '../../../../test/helpers.ts';
import { attachLiveEvents, type FollowAck } from '../../../web/src/server/live.ts';
import { type LogTail, startConsoleLogTail } from './log-tail.ts';

/*
 * Console log live follow end to end, without a guest: the worker's tail publishes what
 * is appended to a server's console.log (NOTIFY on a real PostgreSQL), the web server's
 * socket.io passes it only to sockets that core authorised to follow that server.
 */
const HOST = 'logfollow-it-host';
let db: PrismaClient;
let tail: LogTail;
const http = createServer();
let live: Awaited<ReturnType<typeof attachLiveEvents>>;
let base = '';
const sockets: Socket[] = [];
let alice: { token: string; projectId: string; userId: string };
let bob: { token: string; projectId: string; userId: string };
let reader: { token: string; projectId: string; userId: string };
let admin: { token: string };

async function server(owner: { projectId: string; userId: string }): Promise<string> {
  const id = randomUUID();
  await db.server.create({
    data: {
      id,
      name: `log-${id.slice(0, 6)}`,
      hostname: 'log',
      projectId: owner.projectId,
      userId: owner.userId,
      flavorId: 'f',
      flavor: { id: 'f', name: 'f', vcpus: 1, ramMb: 64, diskGb: 1 },
      imageId: 'i',
      reservationId: `r-${id.slice(0, 8)}`,
      host: HOST,
      vmState: 'active',
      powerState: 1,
    },
  });
  return id;
}

function writeLog(id: string, text: string, append = true): void {
  const p = consoleLogPath(id);
  mkdirSync(dirname(p), { recursive: true });
  if (append) appendFileSync(p, text);
  else writeFileSync(p, text);
}

async function client(token: string): Promise<{ socket: Socket; chunks: StratusEvent[]; events: StratusEvent[] }> {
  const socket = connect(base, { auth: { token }, transports: ['websocket'], reconnection: false });
  sockets.push(socket);
  const chunks: StratusEvent[] = [];
  const events: StratusEvent[] = [];
  socket.on('console', (e: StratusEvent) => chunks.push(e));
  socket.on('event', (e: StratusEvent) => events.push(e));
  await new Promise<void>((resolve, reject) => {
    socket.on('connect', () => resolve());
    socket.on('connect_error', reject);
  });
  return { socket, chunks, events };
}

const follow = (s: Socket, serverId: string, lines?: number) =>
  s.emitWithAck('console:follow', { serverId, ...(lines !== undefined ? { lines } : {}) }) as Promise<FollowAck>;
const chunkOf = (e: StratusEvent | undefined) => e?.data as ConsoleOutputChunk | undefined;

beforeAll(async () => {
  ({ db } = await setupIdentityTest(testDb().url, { STRATUS_HOST: HOST }));
  const adminCtx = await adminContext();
  const who = async (role?: string) => {
    const m = await projectWithMember(adminCtx, role);
    return { token: m.auth.tokenId, projectId: m.project.id, userId: m.user.id };
  };
  alice = await who();
  bob = await who();
  reader = await who('reader');
  admin = {
    token: (
      await authenticate({
        method: 'password',
        userName: 'admin',
        password: TEST_ADMIN_PASSWORD,
        scope: { projectName: 'admin' },
      })
    ).tokenId,
  };
  live = await attachLiveEvents({
    http,
    databaseUrl: testDb().url,
    resolveScope: socketScopeForToken,
    onError: () => {},
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  // Driven by tick() below; the timer is slow on purpose.
  tail = startConsoleLogTail({ host: HOST, intervalMs: 60_000 });
});

afterAll(async () => {
  for (const s of sockets) s.close();
  await tail?.close();
  await live?.listener.close();
  live?.io.close();
});

describe('console log live follow', () => {
  it('sends appended lines only to sockets authorised for that server', async () => {
    const a = await server(alice);
    const b = await server(bob);
    const r = await server(reader);
    writeLog(a, 'boot line 1\nboot line 2\nboot line 3\n', false);
    writeLog(b, 'bob boot\n', false);
    await tail.tick();

    const aliceFollows = await client(alice.token);
    const aliceIdle = await client(alice.token); // same project, not following
    const bobSock = await client(bob.token);
    const adminIdle = await client(admin.token); // admin room, not following
    const readerSock = await client(reader.token);

    const wa = await follow(aliceFollows.socket, a, 2);
    expect(wa).toMatchObject({ ok: true, window: { serverId: a, text: 'boot line 2\nboot line 3\n', end: 36 } });
    const full = await follow(aliceFollows.socket, a);
    expect(full).toMatchObject({
      ok: true,
      window: { start: 0, end: 36, text: 'boot line 1\nboot line 2\nboot line 3\n' },
    });
    // Another project's server: not found, as Nova answers; a reader may not read logs (policy).
    expect(await follow(bobSock.socket, a)).toMatchObject({ ok: false, error: { code: 'NotFound' } });
    expect(await follow(readerSock.socket, r)).toMatchObject({ ok: false, error: { code: 'Forbidden' } });
    expect(await follow(bobSock.socket, b)).toMatchObject({ ok: true });
    expect(await follow(bobSock.socket, 'not-a-uuid')).toMatchObject({ ok: false, error: { code: 'NotFound' } });
    expect(await aliceFollows.socket.emitWithAck('console:follow', { nope: 1 })).toMatchObject({
      ok: false,
      error: { code: 'BadRequest' },
    });

    writeLog(a, 'MARKER-a1 héllo\n');
    await tail.tick();
    const first = await waitFor(() => aliceFollows.chunks[0], { what: "alice's console chunk" });
    expect(first).toMatchObject({ type: 'console.output', projectId: alice.projectId, resourceId: a });
    // It continues exactly where the window ended.
    expect(chunkOf(first)).toMatchObject({
      offset: 36,
      text: 'MARKER-a1 héllo\n',
      file: full.ok ? full.window.file : '',
    });
    expect(chunkOf(first)?.end).toBe(36 + Buffer.byteLength('MARKER-a1 héllo\n'));

    // Bob's own output reaches Bob: a delivery barrier for the negative checks below.
    writeLog(b, 'MARKER-b1\n');
    await tail.tick();
    await waitFor(() => bobSock.chunks.length > 0, { what: "bob's console chunk" });
    expect(bobSock.chunks.map((e) => e.resourceId)).toEqual([b]);
    expect(aliceFollows.chunks.map((e) => e.resourceId)).toEqual([a]);
    for (const idle of [aliceIdle, adminIdle, readerSock]) {
      expect(idle.chunks).toEqual([]);
      expect(idle.events.filter((e) => e.type === 'console.output')).toEqual([]);
    }

    // Unfollow: no more chunks for alice; bob still gets his.
    aliceFollows.socket.emit('console:unfollow', { serverId: a });
    await waitFor(async () => (await aliceFollows.socket.emitWithAck('console:follow', { serverId: b })) as FollowAck, {
      what: 'round trip',
    });
    writeLog(a, 'after unfollow\n');
    writeLog(b, 'MARKER-b2\n');
    await tail.tick();
    await waitFor(() => bobSock.chunks.length > 1, { what: "bob's second chunk" });
    expect(aliceFollows.chunks.filter((e) => e.resourceId === a)).toHaveLength(1);
  });

  it('publishes a new server from its first byte, splits big output and resumes after a burst', async () => {
    const c = await server(alice);
    const s = await client(alice.token);
    await tail.tick(); // known, no file yet
    expect(await follow(s.socket, c)).toMatchObject({ ok: true, window: { file: '', end: 0, text: '' } });
    const big = `${'x'.repeat(9000)}\n`;
    writeLog(c, big);
    await tail.tick();
    const parts = await waitFor(
      () => {
        const mine = s.chunks.filter((e) => e.resourceId === c).map(chunkOf);
        return mine.reduce((n, ch) => n + (ch?.text.length ?? 0), 0) === big.length ? mine : undefined;
      },
      { what: 'all chunks' },
    );
    expect(parts.length).toBeGreaterThan(1);
    // Contiguous: each starts where the previous ended.
    expect(parts.map((p) => p?.offset)).toEqual([0, ...parts.slice(0, -1).map((p) => p?.end)]);
    // A burst larger than one interval's budget: only its newest part, with a gap the client notices.
    writeLog(c, `${'y'.repeat(100 * 1024)}\n`);
    await tail.tick();
    await waitFor(() => s.chunks.filter((e) => e.resourceId === c).length > parts.length, { what: 'burst chunks' });
    const afterBurst = chunkOf(s.chunks.filter((e) => e.resourceId === c)[parts.length]);
    expect(afterBurst?.offset).toBeGreaterThan(big.length);
  });
});
