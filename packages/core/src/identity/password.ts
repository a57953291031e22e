import { hash, type Options, verify } from '@node-rs/argon2';

/*
 * argon2id with OWASP's recommended parameters (19 MiB, 2 passes, 1 lane): RFC 9106's
 * safe minimum for interactive logins, ~20–40 ms here. The parameters live in each
 * hash, so raising them later only affects new hashes.
 */
export const ARGON2_OPTIONS: Options = {
  // Algorithm.Argon2id (a const enum, not importable under verbatimModuleSyntax).
  algorithm: 2,
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
};

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS);
}

export async function verifyPassword(stored: string | null, password: string): Promise<boolean> {
  if (!stored) {
    await verifyDummyPassword(password);
    return false;
  }
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}

let dummy: Promise<string> | undefined;
/**
 * Spends the same time as a real verification, for unknown or locked users, so the
 * response time does not tell whether an account exists.
 */
export async function verifyDummyPassword(password: string): Promise<void> {
  dummy ??= hash('stratus-dummy-password-never-matches', ARGON2_OPTIONS);
  try {
    await verify(await dummy, password);
  } catch {
    // never matches; only the time spent matters
  }
}
