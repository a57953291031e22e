import { describe, expect, it } from 'vitest';
import {
  consoleExpiry,
  consoleUrl,
  hashConsoleToken,
  isWellFormedConsoleToken,
  newConsoleToken,
  refusalReason,
  type TokenFacts,
} from './tokens.ts';

const now = new Date('2026-05-01T12:00:00Z');
const fresh: TokenFacts = {
  expiresAt: new Date(now.getTime() + 60_000),
  usedAt: null,
  host: 'h1',
  protocol: 'vnc',
  server: { deleted: false, host: 'h1' },
};

describe('console tokens', () => {
  it('mints 256-bit url-safe tokens and stores only their SHA-256', () => {
    const a = newConsoleToken();
    const b = newConsoleToken();
    expect(a.token).not.toBe(b.token);
    expect(isWellFormedConsoleToken(a.token)).toBe(true);
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(a.hash).toBe(hashConsoleToken(a.token));
    expect(a.hash).not.toContain(a.token);
    // a known vector: sha256("abc")
    expect(hashConsoleToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('refuses malformed tokens before any lookup', () => {
    for (const t of ['', 'short', `${'a'.repeat(42)}=`, `${'a'.repeat(44)}`, null, undefined, "'; drop table x; --"]) {
      expect(isWellFormedConsoleToken(t)).toBe(false);
    }
  });

  it('expires after the configured lifetime', () => {
    expect(consoleExpiry(now, 600).toISOString()).toBe('2026-05-01T12:10:00.000Z');
    expect(refusalReason({ ...fresh, expiresAt: now }, now)).toBe('expired');
    expect(refusalReason({ ...fresh, expiresAt: new Date(now.getTime() + 1) }, now)).toBeNull();
  });

  it('gives the reason a token is refused', () => {
    expect(refusalReason(fresh, now)).toBeNull();
    expect(refusalReason({ ...fresh, usedAt: now, expiresAt: new Date(0) }, now)).toBe('reused');
    expect(refusalReason({ ...fresh, server: null }, now)).toBe('server_deleted');
    expect(refusalReason({ ...fresh, server: { deleted: true, host: 'h1' } }, now)).toBe('server_deleted');
    expect(refusalReason({ ...fresh, server: { deleted: false, host: 'h2' } }, now)).toBe('server_moved');
    expect(refusalReason(fresh, now, { host: 'h2' })).toBe('wrong_host');
    expect(refusalReason(fresh, now, { host: 'h1', protocol: 'serial' })).toBe('wrong_protocol');
    expect(refusalReason(fresh, now, { host: 'h1', protocol: 'vnc' })).toBeNull();
  });

  it('builds the dashboard URL on the public origin', () => {
    expect(consoleUrl('http://cloud.example:3000/', 'vnc', 'abc-_')).toBe('http://cloud.example:3000/console/vnc?token=abc-_');
    expect(consoleUrl('https://c.example', 'serial', 'x')).toBe('https://c.example/console/serial?token=x');
  });
});
