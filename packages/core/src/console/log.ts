import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { canDo } from '../compute/state.ts';
import type { AuthContext } from '../identity/types.ts';
import { loadConfig } from '../platform/config.ts';
import { conflict, notFound, StratusError } from '../platform/errors.ts';
import { runtime } from '../platform/runtime.ts';
import { can, enforce } from '../policy/index.ts';
import { consoleExpiry, newConsoleToken } from './tokens.ts';

/*
 * The console log (the guest's serial output, which libvirt appends to
 * <stateDir>/instances/<id>/console.log) for the dashboard's Log tab: a window of it (the
 * tail or the whole file) with the byte offset where it ends, and the live follow that
 * continues from that offset. The worker's console role tails the files of its host and
 * publishes what is appended as `console.output` events (apps/worker/src/console/log-tail.ts);
 * the web server relays them only to sockets that passed `authorizeConsoleLog` for that
 * server (apps/web/src/server/live.ts). Offsets are bytes of the file; `file` names the
 * file (device:inode), so a rotated or recreated log is noticed. See docs/consoles.md.
 *
 * A server on another host: its host's console proxy serves the same window at
 * GET CONSOLE_LOG_PATH?token=…&lines=N (apps/worker/src/console/proxy.ts). After its own
 * policy checks the API node mints a single-use `log` token for that server and host
 * (LOG_TOKEN_TTL_SECONDS), as for a console; the proxy consumes it with its own host name,
 * so it only ever answers for the one server the token names.
 */

/** The same rule as Nova's os-getConsoleOutput. */
const POLICY = 'os_compute_api:os-console-output';
/** The live event type (its first word is not a resource the dashboard caches). */
export const CONSOLE_OUTPUT_EVENT = 'console.output';
/** Most bytes read for a tail window (the file itself is capped by virtlogd at 2 MiB). */
const TAIL_READ_MAX = 256 * 1024;
const FULL_READ_MAX = 8 * 1024 * 1024;

const db = () => runtime().db;
export const CONSOLE_LOG_PATH = '/log';
const LOG_TOKEN_TTL_SECONDS = 30;
const REMOTE_LOG_TIMEOUT_MS = 10_000;

/** Where a server's serial log is on its host (the libvirt driver's default). */
export function consoleLogPath(serverId: string): string {
  return join(loadConfig().stateDir, 'instances', serverId, 'console.log');
}

/** Nova strips characters a JSON document or a terminal would choke on; so does the Log tab. */
export function cleanConsoleText(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this removes
  return text.replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g, '');
}

/** The live event's data: bytes [offset, end) of `file`, as text. */
export const ConsoleOutputChunk = z.object({
  file: z.string(),
  offset: z.number().int().min(0),
  end: z.number().int().min(0),
  text: z.string(),
});
export type ConsoleOutputChunk = z.infer<typeof ConsoleOutputChunk>;

export const ConsoleLogWindow = z.object({
  serverId: z.string(),
  /** device:inode of the log file ('' while there is none). */
  file: z.string(),
  /** Byte offset of the first byte shown. */
  start: z.number().int().min(0),
  /** Byte offset just past the last byte shown: live chunks continue from here. */
  end: z.number().int().min(0),
  text: z.string(),
});
export type ConsoleLogWindow = z.infer<typeof ConsoleLogWindow>;

export const ConsoleLogInput = z.object({
  serverId: z.string().min(1),
  /** Last N lines; absent: the whole log. */
  lines: z.number().int().min(0).max(100_000).optional(),
});
export type ConsoleLogInput = z.input<typeof ConsoleLogInput>;

/**
 * May `ctx` read (and follow) the console log of `serverId`? Throws NotFound for another
 * project's server (as Nova), Forbidden by policy, Conflict when it has no log yet.
 * Returns the server's project and host for the caller's bookkeeping.
 */
export async function authorizeConsoleLog(
  ctx: AuthContext,
  serverId: string,
): Promise<{ serverId: string; projectId: string; host: string }> {
  const row = z.uuid().safeParse(serverId).success ? await db().server.findUnique({ where: { id: serverId } }) : null;
  if (!row || row.deleted) throw notFound(`Instance ${serverId} could not be found.`);
  const target = { project_id: row.projectId, user_id: row.userId };
  if (!can(ctx, POLICY, target)) {
    if (row.projectId !== ctx.projectId) throw notFound(`Instance ${serverId} could not be found.`);
    enforce(ctx, POLICY, target);
  }
  const verdict = canDo('console_output', row, { isAdmin: can(ctx, 'admin_required') });
  if (!verdict.ok) throw conflict(verdict.reason);
  if (!row.host) throw conflict(`Instance ${serverId} is not on any host yet.`);
  return { serverId: row.id, projectId: row.projectId, host: row.host };
}

/** The tail (or all) of the console log with its byte offsets, policy-checked. */
export async function readConsoleLogWindow(ctx: AuthContext, input: ConsoleLogInput): Promise<ConsoleLogWindow> {
  const v = ConsoleLogInput.parse(input);
  const server = await authorizeConsoleLog(ctx, v.serverId);
  return readServerLogWindow(server, ctx.userId, v.lines);
}

/**
 * The console log window of a server wherever it runs: the file when it is on this host,
 * else through its host's console proxy. Only for callers that have done the policy checks
 * (readConsoleLogWindow, compute's getConsoleOutput); `requester` is recorded on the token.
 */
export async function readServerLogWindow(
  server: { serverId: string; projectId: string; host: string },
  requester: string,
  lines?: number,
): Promise<ConsoleLogWindow> {
  if (server.host !== loadConfig().host) return readRemoteLogWindow(server, requester, lines);
  return readLogFile(server.serverId, consoleLogPath(server.serverId), lines);
}

/**
 * Where the console proxy of `host` listens. This host: its own listen address (the
 * loopback when it listens on all addresses); another host: that host's name and the
 * cloud-wide proxy port (operators make the proxy listen beyond the loopback then).
 */
export function consoleProxyAddress(host: string): { host: string; port: number } {
  const cfg = loadConfig();
  if (host === cfg.host) {
    const listen = cfg.consoleProxyListen;
    return { host: listen === '0.0.0.0' || listen === '::' ? '127.0.0.1' : listen, port: cfg.consoleProxyPort };
  }
  return { host, port: cfg.consoleProxyPort };
}

/**
 * The console log window of a server on another host, from that host's console proxy
 * (see readServerLogWindow). Unavailable (503) when the proxy cannot be reached or does not
 * answer with a window.
 */
export async function readRemoteLogWindow(
  server: { serverId: string; projectId: string; host: string },
  requester: string,
  lines?: number,
): Promise<ConsoleLogWindow> {
  const { token, hash } = newConsoleToken();
  await db().consoleToken.create({
    data: {
      tokenHash: hash,
      serverId: server.serverId,
      projectId: server.projectId,
      userId: requester,
      host: server.host,
      protocol: 'log',
      type: 'log',
      expiresAt: consoleExpiry(new Date(), LOG_TOKEN_TTL_SECONDS),
    },
  });
  const addr = consoleProxyAddress(server.host);
  const url = new URL(
    `http://${addr.host.includes(':') ? `[${addr.host}]` : addr.host}:${addr.port}${CONSOLE_LOG_PATH}`,
  );
  url.searchParams.set('token', token);
  if (lines !== undefined) url.searchParams.set('lines', String(lines));
  const unavailable = (why: string) =>
    new StratusError('Unavailable', `The console log of a server on host ${server.host} is not readable: ${why}.`);
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(REMOTE_LOG_TIMEOUT_MS) });
  } catch (err) {
    throw unavailable(`its console proxy (${addr.host}:${addr.port}) is not reachable (${(err as Error).message})`);
  }
  if (!res.ok) throw unavailable(`its console proxy answered ${res.status}`);
  const w = ConsoleLogWindow.safeParse(await res.json().catch(() => null));
  if (!w.success || w.data.serverId !== server.serverId) throw unavailable('its console proxy answered something else');
  return w.data;
}

/** Identity of a file for chunk continuity. */
export function fileId(st: { dev: number | bigint; ino: number | bigint }): string {
  return `${st.dev}:${st.ino}`;
}

/** Reads the window from `path` (exported for tests). */
export async function readLogFile(serverId: string, path: string, lines?: number): Promise<ConsoleLogWindow> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { serverId, file: '', start: 0, end: 0, text: '' };
    throw err;
  }
  try {
    const st = await fh.stat();
    const end = st.size;
    const want = lines === undefined ? FULL_READ_MAX : TAIL_READ_MAX;
    const start = Math.max(0, end - want);
    const buf = Buffer.alloc(end - start);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, start + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    let from = 0;
    // A window that does not start at the beginning starts after a newline (no half line, no half character).
    if (start > 0) {
      const nl = buf.indexOf(0x0a);
      from = nl >= 0 && nl < got ? nl + 1 : 0;
    }
    if (lines !== undefined) {
      from = tailStart(buf.subarray(0, got), from, lines);
    }
    return {
      serverId,
      file: fileId(st),
      start: start + from,
      end: start + got,
      text: cleanConsoleText(buf.subarray(from, got).toString('utf8')),
    };
  } finally {
    await fh.close();
  }
}

/** Index in `buf` (≥ from) where its last `lines` lines begin (a final partial line counts as one). */
function tailStart(buf: Buffer, from: number, lines: number): number {
  if (lines <= 0) return buf.length;
  let i = buf.length;
  // A trailing newline ends the last line; it does not start an empty one.
  if (i > from && buf[i - 1] === 0x0a) i--;
  let seen = 0;
  while (i > from) {
    const nl = buf.lastIndexOf(0x0a, i - 1);
    if (nl < from) return from;
    seen++;
    if (seen === lines) return nl + 1;
    i = nl;
  }
  return from;
}

/** For the tailer: the current identity and size of a log file, or null when there is none. */
export async function statLog(path: string): Promise<{ file: string; size: number } | null> {
  try {
    const st = await stat(path);
    return { file: fileId(st), size: st.size };
  } catch {
    return null;
  }
}
