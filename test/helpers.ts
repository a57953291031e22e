import { getPrisma, type PrismaClient } from '@stratus/db';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

/** This test file's own copy of the run's migrated database (test/setup/file-database.ts). */
export function testDb(): { url: string; db: PrismaClient } {
  const url = process.env.STRATUS_TEST_DATABASE_URL ?? inject('databaseUrl');
  return { url, db: getPrisma(url) };
}

/** Polls until `check` returns a value (not undefined/false); never a fixed sleep. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const end = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${opts.what ?? 'condition'}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}
