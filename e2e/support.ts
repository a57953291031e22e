import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, type Page } from '@playwright/test';

/*
 * What every e2e file needs from the running stack: its state directory (scripts/test.sh
 * exports STRATUS_STATE_DIR), the seeded admin password, and a sign-in through the form.
 */

export function stateDir(): string {
  const dir = process.env.STRATUS_STATE_DIR;
  if (!dir) throw new Error('STRATUS_STATE_DIR must name the running stack’s state directory');
  return dir;
}

export function adminPassword(): string {
  const m = /^admin password: (\S+)$/m.exec(readFileSync(join(stateDir(), 'credentials.txt'), 'utf8'));
  if (!m?.[1]) throw new Error('no admin password in credentials.txt');
  return m[1];
}

/** Signs in through the login form (the seeded admin unless told otherwise) and lands on /project. */
export async function login(page: Page, user = 'admin', password = adminPassword()): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByLabel('Password').press('Enter');
  await expect(page).toHaveURL(/\/project$/);
}

/** The cloud of clouds.yaml whose user is the dashboard's (admin), so both act in one project. */
export function cloudName(): string {
  const text = readFileSync(join(stateDir(), 'clouds.yaml'), 'utf8');
  for (const m of text.matchAll(/^ {2}([\w-]+):\s*\n(?: {4,}.*\n)*? {6}username: "?admin"?\s*$/gm))
    if (m[1]) return m[1];
  throw new Error('no admin cloud in clouds.yaml');
}

/** The openstack CLI against this stack (the admin cloud of its clouds.yaml); trimmed stdout. */
export function os(args: string[]): string {
  return execFileSync('openstack', args, {
    encoding: 'utf8',
    env: { ...process.env, OS_CLIENT_CONFIG_FILE: join(stateDir(), 'clouds.yaml'), OS_CLOUD: cloudName() },
    timeout: 120_000,
  }).trim();
}

/** For cleanups: runs `os`, and on failure warns and returns `fallback` instead of hiding the test's own failure. */
export function tryOs(args: string[], fallback = ''): string {
  try {
    return os(args);
  } catch (err) {
    console.warn(`cleanup: openstack ${args.join(' ')} failed: ${String(err)}`);
    return fallback;
  }
}

/**
 * Creates flavor `flavor` (1 vCPU, 128 MiB, 1 GB) and boots server `server` from the seeded
 * stratus-test image through the CLI, without a network (`--nic none` needs compute 2.37):
 * enough to see a disk appear. Returns the server id; the caller deletes both.
 */
export function bootCliServer(server: string, flavor: string): string {
  const images = JSON.parse(os(['image', 'list', '--status', 'active', '-f', 'json'])) as Array<{ Name: string }>;
  const image = images.find((i) => i.Name.startsWith('stratus-test'))?.Name;
  expect(image, 'the stack seeds a stratus-test image').toBeTruthy();
  os(['flavor', 'create', '--vcpus', '1', '--ram', '128', '--disk', '1', flavor]);
  return os([
    '--os-compute-api-version',
    '2.37',
    'server',
    'create',
    '--flavor',
    flavor,
    '--image',
    String(image),
    '--nic',
    'none',
    '-f',
    'value',
    '-c',
    'id',
    server,
  ]);
}
