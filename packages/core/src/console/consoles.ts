import { z } from 'zod';
import { getConsoleOutput } from '../compute/servers.ts';
import { canDo } from '../compute/state.ts';
import type { AuthContext } from '../identity/types.ts';
import { loadConfig } from '../platform/config.ts';
import { badRequest, conflict, notFound, StratusError } from '../platform/errors.ts';
import { logger } from '../platform/log.ts';
import { runtime } from '../platform/runtime.ts';
import { can, enforce } from '../policy/index.ts';
import './policy.ts';
import {
  CONSOLE_TOKEN_PROTOCOLS,
  type ConsoleProtocol,
  type ConsoleTokenProtocol,
  type ConsoleType,
  consoleExpiry,
  consoleTypeFor,
  consoleUrl,
  hashConsoleToken,
  isWellFormedConsoleToken,
  newConsoleToken,
  type RefusalReason,
  refusalReason,
} from './tokens.ts';

/*
 * Remote consoles: a project member asks for a console of a server and gets a URL with
 * a single-use token (Nova's console auth token). The console proxy of the server's
 * host consumes the token when the browser connects, then bridges the websocket to the
 * domain's VNC port or serial pty. See docs/consoles.md.
 */

const POLICY = 'os_compute_api:os-remote-consoles';
const db = () => runtime().db;

export const ConsoleCreate = z.object({
  serverId: z.string().min(1),
  protocol: z.string().min(1),
  type: z.string().min(1),
});
export type ConsoleCreate = z.input<typeof ConsoleCreate>;

export interface RemoteConsole {
  protocol: ConsoleProtocol;
  type: ConsoleType;
  /** The dashboard page that opens this console (token in the query string). */
  url: string;
  /** The single-use token itself (also inside `url`), for embedding the console. */
  token: string;
  serverId: string;
  expiresAt: Date;
}

/** Nova's answers for protocols and types it knows but Stratus does not serve. */
function checkKind(protocol: string, type: string): ConsoleProtocol {
  if (protocol !== 'vnc' && protocol !== 'serial') {
    if (['spice', 'rdp', 'mks'].includes(protocol)) throw badRequest(`Unavailable console type ${protocol}.`);
    throw badRequest(`Invalid input for field/attribute protocol. Value: ${protocol}.`);
  }
  if (type !== consoleTypeFor(protocol)) throw badRequest(`Unavailable console type ${type}.`);
  return protocol;
}

/**
 * Mints a console for `serverId`. Policy `os_compute_api:os-remote-consoles` on the
 * server's project (another project's server is "not found" to a non-admin, as Nova
 * answers); the server must be active and on a host. Returns the URL to open.
 */
export async function createConsole(ctx: AuthContext, input: ConsoleCreate): Promise<RemoteConsole> {
  const v = ConsoleCreate.parse(input);
  const protocol = checkKind(v.protocol, v.type);
  const row = z.uuid().safeParse(v.serverId).success
    ? await db().server.findUnique({ where: { id: v.serverId } })
    : null;
  if (!row || row.deleted) throw notFound(`Instance ${v.serverId} could not be found.`);
  const target = { project_id: row.projectId, user_id: row.userId };
  if (!can(ctx, POLICY, target)) {
    if (row.projectId !== ctx.projectId) throw notFound(`Instance ${v.serverId} could not be found.`);
    enforce(ctx, POLICY, target);
  }
  const verdict = canDo('vnc_console', row, { isAdmin: can(ctx, 'admin_required') });
  if (!verdict.ok) throw conflict(`Instance not ready: ${verdict.reason}`);
  if (!row.host) throw conflict(`Instance ${row.id} is not on any host yet.`);

  const cfg = loadConfig();
  const now = new Date();
  const { token, hash } = newConsoleToken();
  const expiresAt = consoleExpiry(now, cfg.consoleTokenTtlSeconds);
  await db().consoleToken.create({
    data: {
      tokenHash: hash,
      serverId: row.id,
      projectId: row.projectId,
      userId: ctx.userId,
      host: row.host,
      protocol,
      type: consoleTypeFor(protocol),
      expiresAt,
    },
  });
  // Housekeeping: tokens are kept a day after expiry (for the audit trail), then dropped.
  await db().consoleToken.deleteMany({ where: { expiresAt: { lt: new Date(now.getTime() - 86_400_000) } } });
  logger().info({ serverId: row.id, host: row.host, protocol, userId: ctx.userId }, 'console token issued');
  return {
    protocol,
    type: consoleTypeFor(protocol),
    url: consoleUrl(cfg.publicUrl, protocol, token),
    token,
    serverId: row.id,
    expiresAt,
  };
}

export interface ConsoleSession {
  serverId: string;
  projectId: string;
  host: string;
  protocol: ConsoleTokenProtocol;
}

/** A refused token; `reason` is for logs and tests, the message stays generic for clients. */
export class ConsoleTokenRefused extends StratusError {
  constructor(readonly reason: RefusalReason) {
    super('Unauthorized', 'The console token is invalid, expired or already used: ask for a new console.', { reason });
  }
}

async function refuse(
  token: string,
  want: { host?: string; protocol?: ConsoleTokenProtocol },
  consumed: boolean,
): Promise<never> {
  let reason: RefusalReason = 'malformed';
  let facts: Record<string, unknown> = {};
  if (isWellFormedConsoleToken(token)) {
    const t = await db().consoleToken.findUnique({ where: { tokenHash: hashConsoleToken(token) } });
    if (!t) reason = 'unknown';
    else {
      const s = await db().server.findUnique({ where: { id: t.serverId }, select: { deleted: true, host: true } });
      // A race (expired between the update and this read) still reads as expired.
      reason = refusalReason({ ...t, server: s }, new Date(), want) ?? (consumed ? 'reused' : 'expired');
      facts = { tokenId: t.id, serverId: t.serverId, host: t.host, protocol: t.protocol, userId: t.userId };
    }
  }
  logger().warn(
    { reason, ...facts, wantHost: want.host, wantProtocol: want.protocol },
    `console token refused: ${reason}`,
  );
  throw new ConsoleTokenRefused(reason);
}

interface ConsumedRow {
  serverId: string;
  projectId: string;
  host: string;
  protocol: string;
}

/**
 * Uses a token once: atomically marks it used if it is unused, unexpired, its server
 * exists and is still on the token's host (and, when given, the expected host and
 * protocol match). Anything else is refused with ConsoleTokenRefused and logged with
 * the reason (unknown, expired, reused, server_deleted, server_moved, wrong_host, ...).
 */
export async function consumeConsoleToken(
  token: string,
  want: { host?: string; protocol?: ConsoleTokenProtocol } = {},
): Promise<ConsoleSession> {
  if (!isWellFormedConsoleToken(token)) return refuse(String(token), want, false);
  const hash = hashConsoleToken(token);
  const host = want.host ?? null;
  const protocol = want.protocol ?? null;
  const rows = await db().$queryRaw<ConsumedRow[]>`
    UPDATE "ConsoleToken" t SET "usedAt" = now()
      FROM "Server" s
     WHERE t."tokenHash" = ${hash}
       AND t."usedAt" IS NULL
       AND t."expiresAt" > now()
       AND s.id = t."serverId" AND s.deleted = false AND s.host = t.host
       AND (${host}::text IS NULL OR t.host = ${host}::text)
       AND (${protocol}::text IS NULL OR t.protocol = ${protocol}::text)
    RETURNING t."serverId"::text AS "serverId", t."projectId", t.host, t.protocol`;
  const r = rows[0];
  const usedFor = CONSOLE_TOKEN_PROTOCOLS.find((x) => x === r?.protocol);
  if (!r || !usedFor) return refuse(token, want, true);
  logger().info({ serverId: r.serverId, host: r.host, protocol: r.protocol }, 'console token used');
  return { serverId: r.serverId, projectId: r.projectId, host: r.host, protocol: usedFor };
}

/**
 * Which host a token belongs to, without using it: the web server routes a websocket
 * to that host's console proxy, which then consumes the token. null when the token
 * cannot be used (the proxy would refuse it anyway; the caller answers 403).
 */
export async function peekConsoleToken(token: string): Promise<{ host: string; protocol: ConsoleProtocol } | null> {
  if (!isWellFormedConsoleToken(token)) return null;
  const t = await db().consoleToken.findUnique({ where: { tokenHash: hashConsoleToken(token) } });
  if (!t || t.usedAt || t.expiresAt.getTime() <= Date.now()) return null;
  if (t.protocol !== 'vnc' && t.protocol !== 'serial') return null;
  return { host: t.host, protocol: t.protocol };
}

/** The serial console log (Nova's os-getConsoleOutput); compute's function, policy-checked there. */
export async function getConsoleLog(ctx: AuthContext, input: { serverId: string; lines?: number }): Promise<string> {
  return getConsoleOutput(ctx, input.serverId, input.lines);
}
