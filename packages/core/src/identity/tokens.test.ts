import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig, setConfig } from '../platform/config.ts';
import { StratusError } from '../platform/errors.ts';
import { reloadKeys, validateToken } from './auth.ts';
import { ensureKeyRepository, loadKeyRepository, rotateKeys } from './keys.ts';
import { decryptToken, encryptToken, TokenFormatError, type TokenPayload } from './token-format.ts';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'stratus-keys-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const payload = (over: Partial<TokenPayload> = {}): TokenPayload => ({
  u: 'a'.repeat(32),
  m: ['password'],
  p: 'b'.repeat(32),
  iat: Date.now(),
  exp: Date.now() + 3600_000,
  a: 'audit-id-123',
  ...over,
});

describe('key repository', () => {
  it('is created at first use with a staged and a primary key, files 0600 in a 0700 dir', () => {
    const dir = join(tempDir(), 'keys');
    const repo = loadKeyRepository(dir);
    expect(readdirSync(dir).sort()).toEqual(['0', '1']);
    expect(repo.primary.index).toBe(1);
    expect(repo.byKid.size).toBe(2);
    for (const f of ['0', '1']) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('rotation promotes the staged key, keeps old keys valid until they are rotated out', () => {
    const dir = join(tempDir(), 'keys');
    ensureKeyRepository(dir);
    const r1 = loadKeyRepository(dir);
    const old = encryptToken(payload(), r1);
    const stagedKid = [...r1.byKid.keys()].find((k) => k !== r1.primary.kid);

    const r2 = rotateKeys({ dir, maxActiveKeys: 3 });
    // The staged key became primary: every node already accepted it.
    expect(r2.primary.kid).toBe(stagedKid);
    expect(r2.indices).toEqual([0, 1, 2]);
    expect(decryptToken(old, r2).u).toBe('a'.repeat(32));
    const newer = encryptToken(payload(), r2);

    const r3 = rotateKeys({ dir, maxActiveKeys: 3 });
    expect(r3.indices).toEqual([0, 2, 3]);
    expect(() => decryptToken(old, r3)).toThrow(TokenFormatError);
    expect(decryptToken(newer, r3).a).toBe('audit-id-123');
  });
});

describe('token format', () => {
  const repo = loadKeyRepository(join(tempDir(), 'keys'));

  it('round-trips the payload and never shows it in clear', () => {
    const p = payload({ s: true, p: undefined });
    const t = encryptToken(p, repo);
    expect(t).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(t, 'base64url').toString('latin1')).not.toContain('password');
    expect(decryptToken(t, repo)).toEqual(JSON.parse(JSON.stringify(p)));
  });

  it('rejects any tampered byte', () => {
    const t = encryptToken(payload(), repo);
    const raw = Buffer.from(t, 'base64url');
    for (const i of [0, 2, 7, 20, raw.length - 20, raw.length - 1]) {
      const bad = Buffer.from(raw);
      bad[i] = (bad[i] ?? 0) ^ 0x01;
      expect(() => decryptToken(bad.toString('base64url'), repo), `byte ${i}`).toThrow(TokenFormatError);
    }
    expect(() => decryptToken('not-a-token', repo)).toThrow(TokenFormatError);
    expect(() => decryptToken(`${t}!`, repo)).toThrow(TokenFormatError);
  });

  it('rejects tokens of another repository as made by an unknown key', () => {
    const other = loadKeyRepository(join(tempDir(), 'keys'));
    try {
      decryptToken(encryptToken(payload(), other), repo);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(TokenFormatError);
      expect((err as TokenFormatError).unknownKey).toBe(true);
    }
  });
});

describe('validateToken', () => {
  it('refuses an expired token before looking anything up', async () => {
    const stateDir = tempDir();
    setConfig(
      parseConfig({
        STRATUS_STATE_DIR: stateDir,
        DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none',
        STRATUS_LOG_LEVEL: 'silent',
      }),
    );
    reloadKeys();
    const repo = loadKeyRepository(join(stateDir, 'keys'));
    const expired = encryptToken(payload({ iat: Date.now() - 7200_000, exp: Date.now() - 1000 }), repo);
    const err = await validateToken(expired).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StratusError);
    expect((err as StratusError).code).toBe('Unauthorized');
    const garbage = await validateToken('garbage').catch((e: unknown) => e);
    expect((garbage as StratusError).code).toBe('Unauthorized');
  });
});
