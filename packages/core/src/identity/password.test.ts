import { describe, expect, it } from 'vitest';
import { decideLockout, isLocked } from './lockout.ts';
import { argon2Load, hashPassword, verifyDummyPassword, verifyPassword } from './password.ts';

describe('password hashing', () => {
  it('uses argon2id at the recommended cost and verifies', async () => {
    const h = await hashPassword('correct horse');
    expect(h).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await verifyPassword(h, 'correct horse')).toBe(true);
    expect(await verifyPassword(h, 'Correct horse')).toBe(false);
    expect(await verifyPassword(null, 'anything')).toBe(false);
    expect(await verifyPassword('not-a-hash', 'anything')).toBe(false);
  });

  it('runs at most one hash per core at a time; the others wait their turn and all answer right', async () => {
    const h = await hashPassword('queued');
    const { max } = argon2Load();
    const n = max * 3;
    const all = Promise.all(Array.from({ length: n }, (_, i) => verifyPassword(h, i % 2 ? 'queued' : 'wrong')));
    const load = argon2Load();
    expect(load.running).toBe(max);
    expect(load.waiting).toBe(n - max);
    expect(await all).toEqual(Array.from({ length: n }, (_, i) => i % 2 === 1));
    expect(argon2Load()).toMatchObject({ running: 0, waiting: 0 });
  });

  it('salts: the same password hashes differently', async () => {
    expect(await hashPassword('pw')).not.toBe(await hashPassword('pw'));
  });

  it('spends comparable time on the dummy verification (no user enumeration by timing)', async () => {
    const h = await hashPassword('x');
    await verifyDummyPassword('warm-up');
    const t0 = performance.now();
    for (let i = 0; i < 3; i++) await verifyPassword(h, 'wrong');
    const real = performance.now() - t0;
    const t1 = performance.now();
    for (let i = 0; i < 3; i++) await verifyDummyPassword('wrong');
    const dummy = performance.now() - t1;
    // Same KDF parameters: within a factor that scheduling noise cannot exceed.
    expect(dummy / real).toBeGreaterThan(0.3);
    expect(dummy / real).toBeLessThan(3);
  });
});

describe('lockout', () => {
  const policy = { attempts: 3, minutes: 10 };
  const t0 = new Date('2026-01-01T00:00:00Z');

  it('locks after N consecutive failures, for M minutes', () => {
    let s = { failedAttempts: 0, lockedUntil: null as Date | null };
    for (let i = 1; i <= 2; i++) {
      const d = decideLockout(s, false, policy, t0);
      expect(d.kind).toBe('failed');
      if (d.kind !== 'failed') throw new Error();
      s = d.next;
      expect(s).toEqual({ failedAttempts: i, lockedUntil: null });
    }
    const third = decideLockout(s, false, policy, t0);
    if (third.kind !== 'failed') throw new Error('expected failed');
    expect(third.next.lockedUntil?.toISOString()).toBe('2026-01-01T00:10:00.000Z');
    s = third.next;
    // Even the right password is refused while locked.
    expect(isLocked(s, new Date(t0.getTime() + 9 * 60_000))).toBe(true);
    expect(decideLockout(s, true, policy, new Date(t0.getTime() + 60_000)).kind).toBe('locked');
    // After M minutes the right password works and clears the state.
    const later = new Date(t0.getTime() + 10 * 60_000 + 1);
    expect(isLocked(s, later)).toBe(false);
    expect(decideLockout(s, true, policy, later)).toEqual({
      kind: 'ok',
      next: { failedAttempts: 0, lockedUntil: null },
    });
  });

  it('a success resets the count; an expired lock starts a fresh count', () => {
    expect(decideLockout({ failedAttempts: 2, lockedUntil: null }, true, policy, t0)).toEqual({
      kind: 'ok',
      next: { failedAttempts: 0, lockedUntil: null },
    });
    expect(decideLockout({ failedAttempts: 0, lockedUntil: null }, true, policy, t0)).toEqual({
      kind: 'ok',
      next: null,
    });
    const expired = { failedAttempts: 0, lockedUntil: new Date(t0.getTime() - 1) };
    expect(decideLockout(expired, false, policy, t0)).toEqual({
      kind: 'failed',
      next: { failedAttempts: 1, lockedUntil: null },
    });
  });

  it('attempts = 0 disables lockout', () => {
    const d = decideLockout({ failedAttempts: 0, lockedUntil: null }, false, { attempts: 0, minutes: 10 }, t0);
    expect(d).toEqual({ kind: 'failed', next: { failedAttempts: 0, lockedUntil: null } });
  });
});
