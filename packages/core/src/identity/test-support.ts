import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Prisma, type PrismaClient } from '@stratus/db';
import { parseConfig, setConfig } from '../platform/config.ts';
import { authenticate } from './auth.ts';
import { bootstrapIdentity } from './bootstrap.ts';
import { assignRole } from './assignments.ts';
import { createProject } from './projects.ts';
import { getRole } from './roles.ts';
import { db } from './store.ts';
import type { AuthContext } from './types.ts';
import { createUser } from './users.ts';

/*
 * For integration tests: configure this process against the run's database with its
 * own state directory (keys, clouds.yaml), and bootstrap identity. Test files share
 * one database, so everything they create carries a unique suffix.
 */
export const TEST_ADMIN_PASSWORD = 'test-admin-password';

export async function setupIdentityTest(
  databaseUrl: string,
  extraEnv: Record<string, string> = {},
): Promise<{ stateDir: string; db: PrismaClient }> {
  const stateDir = mkdtempSync(join(tmpdir(), 'stratus-identity-'));
  setConfig(
    parseConfig({
      DATABASE_URL: databaseUrl,
      STRATUS_STATE_DIR: stateDir,
      STRATUS_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
      STRATUS_CLOUDS_YAML: join(stateDir, 'clouds.yaml'),
      STRATUS_LOG_LEVEL: 'silent',
      ...extraEnv,
    }),
  );
  const { loadConfig } = await import('../platform/config.ts');
  // Another test file may be bootstrapping the same database at this moment.
  for (let attempt = 0; ; attempt++) {
    try {
      await bootstrapIdentity({ db: db(), config: loadConfig() });
      break;
    } catch (err) {
      if (attempt < 5 && err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') continue;
      throw err;
    }
  }
  return { stateDir, db: db() };
}

export async function adminContext(): Promise<AuthContext> {
  const r = await authenticate({
    method: 'password',
    userName: 'admin',
    password: TEST_ADMIN_PASSWORD,
    scope: { projectName: 'admin' },
  });
  return r.context;
}

let n = 0;
export function unique(prefix: string): string {
  n += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${n}`;
}

/** A project with one user holding `role` on it; returns their scoped token too. */
export async function projectWithMember(admin: AuthContext, role = 'member') {
  const project = await createProject(admin, { name: unique('proj') });
  const password = `pw-${unique('x')}`;
  const user = await createUser(admin, { name: unique('user'), password, defaultProjectId: project.id });
  const roleRow = await db().role.findUniqueOrThrow({ where: { name: role } });
  await getRole(admin, { roleId: roleRow.id });
  await assignRole(admin, { roleId: roleRow.id, userId: user.id, projectId: project.id });
  const auth = await authenticate({
    method: 'password',
    userName: user.name,
    password,
    scope: { projectId: project.id },
  });
  return { project, user, password, auth, roleId: roleRow.id };
}
