// Applies migrations to DATABASE_URL. Run with node --experimental-wasm-modules.
import { z } from 'zod';
import { diffDatabaseToSchema, migrateDatabase } from '../migrate.ts';

const url = z.string().url().safeParse(process.env.DATABASE_URL);
if (!url.success) {
  process.stderr.write('stratus migrate: DATABASE_URL must be a postgresql:// URL\n');
  process.exit(2);
}
try {
  if (process.argv.includes('--diff')) {
    // Prints the SQL that would bring the database to schema.prisma (empty = in sync).
    process.stdout.write(await diffDatabaseToSchema(url.data));
  } else {
    const applied = await migrateDatabase(url.data);
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
  }
} catch (err) {
  process.stderr.write(`stratus migrate: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
