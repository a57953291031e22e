import { availableParallelism } from 'node:os';
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

/*
 * argon2 runs on libuv's thread pool (4 threads by default), off the event loop. That
 * pool also serves file system calls and DNS lookups: eight logins at once would fill
 * it and make every file read of the web server wait behind them. At most one hash per
 * core runs at a time (more would not finish sooner: the work is CPU-bound); the rest
 * wait here, in arrival order, leaving pool threads free for I/O.
 */
const MAX_PARALLEL = Math.max(1, availableParallelism());
let running = 0;
const waiting: Array<() => void> = [];

async function limited<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= MAX_PARALLEL) await new Promise<void>((resolve) => waiting.push(resolve));
  else running++;
  try {
    return await fn();
  } finally {
    // Hand the slot straight to the next waiter (running stays the same), or free it.
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}

/** For tests and diagnostics: hashes running now, and waiting for a core. */
export function argon2Load(): { running: number; waiting: number; max: number } {
  return { running, waiting: waiting.length, max: MAX_PARALLEL };
}

export function hashPassword(password: string): Promise<string> {
  return limited(() => hash(password, ARGON2_OPTIONS));
}

export async function verifyPassword(stored: string | null, password: string): Promise<boolean> {
  if (!stored) {
    await verifyDummyPassword(password);
    return false;
  }
  try {
    return await limited(() => verify(stored, password));
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
  dummy ??= hashPassword('stratus-dummy-password-never-matches');
  const stored = await dummy;
  try {
    await limited(() => verify(stored, password));
  } catch {
    // never matches; only the time spent matters
  }
}
