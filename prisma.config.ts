import { defineConfig } from 'prisma/config';

// Only `prisma generate` uses this file. Migrations are applied by our own offline
// runner (packages/db/src/migrate.ts): the native schema engine cannot be downloaded.
export default defineConfig({
  schema: 'prisma/schema',
  migrations: { path: 'prisma/migrations' },
});
