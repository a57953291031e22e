// Development tool: regenerates prisma/migrations/0001_init from prisma/schema/*.prisma.
// Allowed only until the first release; afterwards migrations are append-only
// (see docs/migrations.md).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { diffEmptyToSchema } from '../migrate.ts';
import { migrationsDir } from '../paths.ts';
import { startScratchPostgres } from '../testing.ts';

const db = await startScratchPostgres();
try {
  const sql = await diffEmptyToSchema(db.connectionString);
  const dir = join(migrationsDir, '0001_init');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'migration.sql'), sql);
  writeFileSync(join(migrationsDir, 'migration_lock.toml'), 'provider = "postgresql"\n');
  process.stdout.write(`wrote ${join(dir, 'migration.sql')} (${sql.length} bytes)\n`);
} finally {
  await db.stop();
}
