import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Prisma } from '@stratus/db';
import { describe, expect, it } from 'vitest';
import { testDb } from '../../../test/helpers.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('schema.prisma and the migrated database', () => {
  it('agree: the schema engine finds nothing to change', () => {
    const { url } = testDb();
    const diff = execFileSync(
      process.execPath,
      ['--no-warnings', '--experimental-wasm-modules', '--import', 'tsx', 'packages/db/src/cli/migrate.ts', '--diff'],
      { cwd: root, env: { ...process.env, DATABASE_URL: url }, encoding: 'utf8' },
    );
    // The engine prints an empty migration (comments only) when nothing differs.
    const statements = diff.split('\n').filter((l) => l.trim() && !l.trim().startsWith('--'));
    expect(statements).toEqual([]);
  });

  it('every model reads back all of its columns', async () => {
    const { db } = testDb();
    const models = Object.values(Prisma.ModelName);
    expect(models.length).toBeGreaterThan(0);
    for (const model of models) {
      const delegateName = model.charAt(0).toLowerCase() + model.slice(1);
      const delegate = (db as unknown as Record<string, { findFirst(): Promise<unknown> }>)[delegateName];
      expect(delegate, `delegate for ${model}`).toBeDefined();
      // findFirst selects every scalar column: a column missing in the database throws.
      await delegate!.findFirst();
    }
  });

  it('writes and reads the platform models', async () => {
    const { db } = testDb();
    const host = `schema-test-${Date.now()}`;
    const svc = await db.service.create({ data: { binary: 'stratus-worker', host, roles: ['compute', 'network'] } });
    expect(await db.service.findUniqueOrThrow({ where: { id: svc.id } })).toMatchObject({ host, roles: ['compute', 'network'], disabled: false });
    const task = await db.task.create({ data: { kind: 'test', message: 'x', requestId: 'req-1' } });
    expect(await db.task.findUniqueOrThrow({ where: { id: task.id } })).toMatchObject({ kind: 'test', state: 'queued' });
  });
});
