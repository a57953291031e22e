import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '@stratus/db';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { testDb } from '../../../../test/helpers.ts';
import { adminContext, projectWithMember, setupIdentityTest } from '../identity/test-support.ts';
import type { AuthContext } from '../identity/types.ts';
import { logger } from '../platform/log.ts';
import { StratusError } from '../platform/errors.ts';
import { consumeConsoleToken, createConsole, peekConsoleToken } from './consoles.ts';
import { hashConsoleToken } from './tokens.ts';

const HOST = 'console-it-host';
let db: PrismaClient;
let admin: AuthContext;
let alice: { ctx: AuthContext; projectId: string; userId: string };
let bob: { ctx: AuthContext; projectId: string };
let reader: AuthContext;

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof StratusError) return err.code;
    throw err;
  }
}

async function server(projectId: string, userId: string, over: { vmState?: string; host?: string | null } = {}): Promise<string> {
  const id = randomUUID();
  await db.server.create({
    data: {
      id,
      name: `con-${id.slice(0, 6)}`,
      hostname: 'con',
      projectId,
      userId,
      flavorId: 'f',
      flavor: { id: 'f', name: 'f', vcpus: 1, ramMb: 64, diskGb: 1 },
      imageId: 'i',
      reservationId: `r-${id.slice(0, 8)}`,
      host: over.host === undefined ? HOST : over.host,
      vmState: over.vmState ?? 'active',
      powerState: 1,
    },
  });
  return id;
}

/** Runs `fn` and returns the reasons logged by console token refusals meanwhile. */
async function refusals(fn: () => Promise<unknown>): Promise<string[]> {
  const warn = vi.spyOn(logger(), 'warn');
  try {
    await fn().catch(() => undefined);
    return warn.mock.calls.flatMap((c) => {
      const o = c[0];
      return o && typeof o === 'object' && 'reason' in o ? [String(o.reason)] : [];
    });
  } finally {
    warn.mockRestore();
  }
}

beforeAll(async () => {
  ({ db } = await setupIdentityTest(testDb().url, { STRATUS_HOST: HOST, STRATUS_CONSOLE_TOKEN_TTL_SECONDS: '600' }));
  admin = await adminContext();
  const a = await projectWithMember(admin);
  alice = { ctx: a.auth.context, projectId: a.project.id, userId: a.user.id };
  const b = await projectWithMember(admin);
  bob = { ctx: b.auth.context, projectId: b.project.id };
  const r = await projectWithMember(admin, 'reader');
  reader = r.auth.context;
});
afterEach(() => vi.restoreAllMocks());

describe('console tokens against PostgreSQL', () => {
  it('mints a URL, stores only the hash, and the token works exactly once', async () => {
    const id = await server(alice.projectId, alice.userId);
    const c = await createConsole(alice.ctx, { serverId: id, protocol: 'vnc', type: 'novnc' });
    expect(c).toMatchObject({ protocol: 'vnc', type: 'novnc', serverId: id });
    expect(c.url).toMatch(/\/console\/vnc\?token=[A-Za-z0-9_-]{43}$/);
    const row = await db.consoleToken.findUniqueOrThrow({ where: { tokenHash: hashConsoleToken(c.token) } });
    expect(row).toMatchObject({ serverId: id, host: HOST, protocol: 'vnc', usedAt: null });
    expect(JSON.stringify(await db.consoleToken.findMany({ where: { serverId: id } }))).not.toContain(c.token);
    expect(row.expiresAt.getTime() - row.createdAt.getTime()).toBeGreaterThan(590_000);

    expect(await peekConsoleToken(c.token)).toEqual({ host: HOST, protocol: 'vnc' });
    expect(await consumeConsoleToken(c.token, { host: HOST, protocol: 'vnc' })).toMatchObject({ serverId: id, host: HOST, protocol: 'vnc' });
    expect(await peekConsoleToken(c.token)).toBeNull();
    expect(await refusals(() => consumeConsoleToken(c.token))).toEqual(['reused']);
  });

  it('lets only one of many simultaneous connections use a token', async () => {
    const id = await server(alice.projectId, alice.userId);
    const c = await createConsole(alice.ctx, { serverId: id, protocol: 'serial', type: 'serial' });
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => consumeConsoleToken(c.token)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('refuses an expired token and logs why', async () => {
    const id = await server(alice.projectId, alice.userId);
    const c = await createConsole(alice.ctx, { serverId: id, protocol: 'vnc', type: 'novnc' });
    await db.consoleToken.update({ where: { tokenHash: hashConsoleToken(c.token) }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect(await code(consumeConsoleToken(c.token))).toBe('Unauthorized');
    expect(await refusals(() => consumeConsoleToken(c.token))).toEqual(['expired']);
  });

  it('refuses unknown and malformed tokens', async () => {
    expect(await refusals(() => consumeConsoleToken('A'.repeat(43)))).toEqual(['unknown']);
    expect(await refusals(() => consumeConsoleToken('nope'))).toEqual(['malformed']);
  });

  it('refuses a token of a server deleted since, and of another host or protocol', async () => {
    const id = await server(alice.projectId, alice.userId);
    const c = await createConsole(alice.ctx, { serverId: id, protocol: 'vnc', type: 'novnc' });
    expect(await refusals(() => consumeConsoleToken(c.token, { host: 'another-host' }))).toEqual(['wrong_host']);
    expect(await refusals(() => consumeConsoleToken(c.token, { protocol: 'serial' }))).toEqual(['wrong_protocol']);
    await db.server.update({ where: { id }, data: { deleted: true, vmState: 'deleted', deletedAt: new Date() } });
    expect(await refusals(() => consumeConsoleToken(c.token, { host: HOST }))).toEqual(['server_deleted']);
    expect(await code(createConsole(alice.ctx, { serverId: id, protocol: 'vnc', type: 'novnc' }))).toBe('NotFound');
  });

  it('refuses by policy: another project, a reader; admin may', async () => {
    const id = await server(alice.projectId, alice.userId);
    expect(await code(createConsole(bob.ctx, { serverId: id, protocol: 'vnc', type: 'novnc' }))).toBe('NotFound');
    expect(await db.consoleToken.count({ where: { serverId: id } })).toBe(0);
    const readerServer = await server(reader.projectId ?? '', reader.userId);
    expect(await code(createConsole(reader, { serverId: readerServer, protocol: 'vnc', type: 'novnc' }))).toBe('Forbidden');
    expect(await code(createConsole(admin, { serverId: id, protocol: 'serial', type: 'serial' }))).toBe('ok');
  });

  it('refuses servers that are not active or not on a host, and unknown console kinds', async () => {
    const stopped = await server(alice.projectId, alice.userId, { vmState: 'stopped' });
    expect(await code(createConsole(alice.ctx, { serverId: stopped, protocol: 'vnc', type: 'novnc' }))).toBe('Conflict');
    const building = await server(alice.projectId, alice.userId, { vmState: 'active', host: null });
    expect(await code(createConsole(alice.ctx, { serverId: building, protocol: 'vnc', type: 'novnc' }))).toBe('Conflict');
    const id = await server(alice.projectId, alice.userId);
    expect(await code(createConsole(alice.ctx, { serverId: id, protocol: 'spice', type: 'spice-html5' }))).toBe('BadRequest');
    expect(await code(createConsole(alice.ctx, { serverId: id, protocol: 'vnc', type: 'xvpvnc' }))).toBe('BadRequest');
    expect(await code(createConsole(alice.ctx, { serverId: 'not-a-uuid', protocol: 'vnc', type: 'novnc' }))).toBe('NotFound');
  });
});
