/*
 * Lockout after repeated failed passwords, as a pure decision so it is testable
 * without a database: the caller stores the returned state.
 */
export interface LockoutState {
  failedAttempts: number;
  lockedUntil: Date | null;
}
export interface LockoutPolicy {
  /** 0 disables lockout. */
  attempts: number;
  minutes: number;
}
export type LockoutDecision =
  | { kind: 'locked' }
  | { kind: 'ok'; next: LockoutState | null }
  | { kind: 'failed'; next: LockoutState };

/** Before checking a password: is the account locked now? */
export function isLocked(state: LockoutState, now: Date): boolean {
  return state.lockedUntil !== null && state.lockedUntil.getTime() > now.getTime();
}

/** After checking a password: the new state (null when nothing changes). */
export function decideLockout(
  state: LockoutState,
  passwordOk: boolean,
  policy: LockoutPolicy,
  now: Date,
): LockoutDecision {
  if (isLocked(state, now)) return { kind: 'locked' };
  if (passwordOk) {
    const dirty = state.failedAttempts !== 0 || state.lockedUntil !== null;
    return { kind: 'ok', next: dirty ? { failedAttempts: 0, lockedUntil: null } : null };
  }
  if (policy.attempts <= 0) return { kind: 'failed', next: { failedAttempts: 0, lockedUntil: null } };
  // A lock that has run out starts a fresh count.
  const base = state.lockedUntil !== null ? 0 : state.failedAttempts;
  const attempts = base + 1;
  if (attempts >= policy.attempts) {
    return {
      kind: 'failed',
      next: { failedAttempts: 0, lockedUntil: new Date(now.getTime() + policy.minutes * 60_000) },
    };
  }
  return { kind: 'failed', next: { failedAttempts: attempts, lockedUntil: null } };
}
