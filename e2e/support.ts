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
