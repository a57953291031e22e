import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import { SchemaEngine } from '@prisma/schema-engine-wasm';
import pg from 'pg';
import { runMigrations as runQueueMigrations } from 'graphile-worker';
import { silentLoggerFactory } from './quiet.ts';
import { migrationsDir, schemaDir } from './paths.ts';

/*
 * Offline migrations. Prisma's native schema engine cannot be downloaded here, so we
 * drive the WASM schema engine from npm through the pg driver adapter (see
 * docs/migrations.md). Importing this module requires `node --experimental-wasm-modules`.
 */

const CHAR_OID = 18;
const TEXT_OID = 25;
let patched = false;
/**
 * The adapter rejects PostgreSQL's internal one-byte `"char"` type (OID 18), which the
 * engine's catalog queries return. Reporting those columns as text fixes it. Applied
 * only in processes that load this module (migrations, tests), never in the app.
 */
function remapCharColumns(): void {
  if (patched) return;
  patched = true;
  // addFields is internal to node-postgres (not in its types), hence the cast.
  const proto = pg.Result.prototype as unknown as { addFields(fields: Array<{ dataTypeID: number }>): void };
  const original = proto.addFields;
  proto.addFields = function (this: unknown, fields) {
    for (const f of fields) if (f.dataTypeID === CHAR_OID) f.dataTypeID = TEXT_OID;
    return original.call(this, fields);
  };
}

export function readSchemaFiles(): Array<{ path: string; content: string }> {
  return readdirSync(schemaDir)
    .filter((f) => f.endsWith('.prisma'))
    .sort()
    .map((f) => ({ path: join(schemaDir, f), content: readFileSync(join(schemaDir, f), 'utf8') }));
}

function migrationList() {
  const dirs = existsSync(migrationsDir)
    ? readdirSync(migrationsDir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort()
    : [];
  return {
    baseDir: migrationsDir,
    lockfile: { path: 'migration_lock.toml', content: 'provider = "postgresql"\n' },
    shadowDbInitScript: '',
    migrationDirectories: dirs.map((name) => ({
      path: name,
      migrationFile: {
        path: 'migration.sql',
        content: { tag: 'ok' as const, value: readFileSync(join(migrationsDir, name, 'migration.sql'), 'utf8') },
      },
    })),
  };
}

const filters = { externalTables: [], externalEnums: [] };

async function withEngine<T>(connectionString: string, fn: (e: SchemaEngine) => Promise<T>): Promise<T> {
  remapCharColumns();
  const files = readSchemaFiles();
  const factory = bindMigrationAwareSqlAdapterFactory(new PrismaPg({ connectionString }));
  const engine = await SchemaEngine.new(
    { datamodels: files.map((f) => [f.path, f.content]) },
    () => {},
    factory,
  );
  try {
    return await fn(engine);
  } finally {
    engine.free();
  }
}

/** Applies pending Prisma migrations, then the job queue's own schema. Safe to re-run. */
export async function migrateDatabase(connectionString: string): Promise<string[]> {
  const applied = await withEngine(connectionString, async (engine) => {
    const out = await engine.applyMigrations({ migrationsList: migrationList(), filters });
    return out.appliedMigrationNames;
  });
  const pool = new pg.Pool({ connectionString, max: 2 });
  // Idle-client errors surface on the next query instead of crashing the process.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  try {
    await runQueueMigrations({ pgPool: pool, logger: silentLoggerFactory() });
  } finally {
    await pool.end();
  }
  return applied;
}

/** SQL that would take an empty database to the current schema.prisma. */
export async function diffEmptyToSchema(connectionString: string): Promise<string> {
  return withEngine(connectionString, async (engine) => {
    const files = readSchemaFiles();
    const res = await engine.diff({
      from: { tag: 'empty' },
      to: { tag: 'schemaDatamodel', files },
      script: true,
      exitCode: null,
      filters,
    });
    return res.stdout ?? '';
  });
}

/** SQL that would take the migrated database to schema.prisma: empty when they agree. */
export async function diffDatabaseToSchema(connectionString: string): Promise<string> {
  return withEngine(connectionString, async (engine) => {
    const files = readSchemaFiles();
    const res = await engine.diff({
      from: { tag: 'schemaDatasource', files, configDir: schemaDir },
      to: { tag: 'schemaDatamodel', files },
      script: true,
      exitCode: null,
      filters,
    });
    return res.stdout ?? '';
  });
}
