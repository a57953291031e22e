import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** Repository root, resolved from this file so commands work from any directory. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const schemaDir = join(repoRoot, 'prisma', 'schema');
export const migrationsDir = join(repoRoot, 'prisma', 'migrations');
