import { defineConfig } from 'vitest/config';

// Test layers by file name (shared/STYLE.md): *.test.ts unit, *.integration.test.ts
// real PostgreSQL, *.system.test.ts real libvirt/namespaces (root on Linux).
const exclude = ['**/node_modules/**', '**/.next/**', '**/.tools/**'];
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{apps,packages,scripts,test}/**/*.test.ts'],
          exclude: [...exclude, '**/*.integration.test.ts', '**/*.system.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['{apps,packages,scripts,test}/**/*.integration.test.ts'],
          exclude,
          globalSetup: ['test/setup/database.ts'],
          setupFiles: ['test/setup/file-database.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'system',
          include: ['{apps,packages,scripts,test}/**/*.system.test.ts'],
          exclude,
          globalSetup: ['test/setup/database.ts'],
          setupFiles: ['test/setup/file-database.ts'],
          testTimeout: 600_000,
          hookTimeout: 600_000,
          // Real guests are CPU-bound on 2 cores: one file at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
