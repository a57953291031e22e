import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startScratchPostgres } from '@stratus/db/testing';
import type { TestProject } from 'vitest/node';

import '../helpers.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** One real embedded PostgreSQL per test run, migrated with the product's own command. */
export default async function setup(project: TestProject) {
  const db = await startScratchPostgres();
  execFileSync(process.execPath, ['--no-warnings', '--experimental-wasm-modules', '--import', 'tsx', 'packages/db/src/cli/migrate.ts'], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: db.connectionString },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  project.provide('databaseUrl', db.connectionString);
  return async () => {
    await db.stop();
  };
}
