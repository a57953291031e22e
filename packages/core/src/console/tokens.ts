import { createHash, randomBytes } from 'node:crypto';

/*
 * Console tokens, the pure part: minting, hashing, the URL a client opens, and why a
 * presented token is refused. The database keeps only the SHA-256 of a token.
 */

export type ConsoleProtocol = 'vnc' | 'serial';
/**
 * What a token may be used for: a console (vnc, serial), or `log`: one read of the console
 * log through the proxy of the server's host, minted by the API node for itself (log.ts).
 */
export type ConsoleTokenProtocol = ConsoleProtocol | 'log';
export const CONSOLE_TOKEN_PROTOCOLS: readonly ConsoleTokenProtocol[] = ['vnc', 'serial', 'log'];
export type ConsoleType = 'novnc' | 'serial';

/** 32 random bytes, base64url: 43 characters, safe in a query string. */
const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

export function newConsoleToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashConsoleToken(token) };
}

export function hashConsoleToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Cheap shape check before any database work (garbage is refused as "malformed"). */
export function isWellFormedConsoleToken(token: string | null | undefined): token is string {
  return typeof token === 'string' && TOKEN_RE.test(token);
}

export function consoleExpiry(now: Date, ttlSeconds: number): Date {
  return new Date(now.getTime() + ttlSeconds * 1000);
}

/** The dashboard page that opens the console: same origin as the dashboard itself. */
export function consoleUrl(publicUrl: string, protocol: ConsoleProtocol, token: string): string {
  const base = publicUrl.replace(/\/+$/, '');
  return `${base}/console/${protocol}?token=${encodeURIComponent(token)}`;
}

/** Path the browser's websocket uses (on the dashboard's origin) for a protocol. */
export function consoleWebsocketPath(protocol: ConsoleProtocol): string {
  return `/console/ws/${protocol}`;
}

/** Nova's combinations of protocol and type that Stratus serves. */
export function consoleTypeFor(protocol: ConsoleProtocol): ConsoleType {
  return protocol === 'vnc' ? 'novnc' : 'serial';
}

export type RefusalReason =
  | 'malformed'
  | 'unknown'
  | 'expired'
  | 'reused'
  | 'server_deleted'
  | 'server_moved'
  | 'wrong_host'
  | 'wrong_protocol';

export interface TokenFacts {
  expiresAt: Date;
  usedAt: Date | null;
  host: string;
  protocol: string;
  /** null when the server row is gone. */
  server: { deleted: boolean; host: string | null } | null;
}

/**
 * Why a token that exists cannot be used now, or null when it can. The order matters:
 * a reused token is reported as reused even once it has expired.
 */
export function refusalReason(
  t: TokenFacts,
  now: Date,
  want: { host?: string; protocol?: ConsoleTokenProtocol } = {},
): RefusalReason | null {
  if (t.usedAt) return 'reused';
  if (t.expiresAt.getTime() <= now.getTime()) return 'expired';
  if (!t.server || t.server.deleted) return 'server_deleted';
  if (t.server.host !== t.host) return 'server_moved';
  if (want.host !== undefined && want.host !== t.host) return 'wrong_host';
  if (want.protocol !== undefined && want.protocol !== t.protocol) return 'wrong_protocol';
  return null;
}
