import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../', import.meta.url));
function start(entry: string, env: Record<string, string>) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', entry], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', STRATUS_STATE_DIR: '/nonexistent', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stderr: r.stderr.trim() };
}

describe('start-up errors are one clear line and a non-zero exit', () => {
  for (const entry of ['apps/worker/src/main.ts', 'apps/web/server.ts']) {
    it(`${entry}: invalid config value`, () => {
      const r = start(entry, { STRATUS_WEB_PORT: 'abc', DATABASE_URL: 'postgresql://x@127.0.0.1:1/x' });
      expect(r.status).not.toBe(0);
      expect(r.stderr.split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/STRATUS_WEB_PORT \(webPort\)/);
    });
    it(`${entry}: unreachable DATABASE_URL`, () => {
      const r = start(entry, { DATABASE_URL: 'postgresql://stratus:x@127.0.0.1:1/stratus' });
      expect(r.status).not.toBe(0);
      expect(r.stderr.split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/cannot reach the database/);
    });
  }
});
