import { expect, type Page, test } from '@playwright/test';
import { adminPassword, login } from './support.ts';

/*
 * The identity shell end to end: an admin creates a project and a member user through
 * the dashboard; that user sees only their project; logging out revokes the session's
 * Keystone token for every client, not only the browser. A second page sees the new
 * project appear without a reload (identity live events).
 */

async function loginAs(page: Page, user: string, password: string) {
  await login(page, user, password);
  await expect(page.getByTestId('user-name')).toHaveText(user);
}

async function sessionToken(page: Page): Promise<string> {
  const res = await page.request.get('/api/auth/session');
  const body = (await res.json()) as { tokenId?: string };
  expect(body.tokenId, 'the session carries a Keystone token').toBeTruthy();
  return body.tokenId ?? '';
}

async function tokenStatus(page: Page, token: string): Promise<number> {
  const res = await page.request.get('/identity/v3/auth/tokens', {
    headers: { 'X-Auth-Token': token, 'X-Subject-Token': token },
  });
  return res.status();
}

async function logout(page: Page) {
  await page.getByRole('button', { name: 'User menu' }).click();
  await page.getByRole('menuitem', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login/);
}

test('admin creates a project and a member; the member sees only that project; logout revokes the token', async ({
  page,
}) => {
  const suffix = Date.now().toString(36);
  const project = `e2e-proj-${suffix}`;
  const user = `e2e-user-${suffix}`;
  const password = `pw-${suffix}-Secret!`;

  // Wrong password: one message that does not say whether the user exists.
  await page.goto('/login');
  await page.getByLabel('User name').fill('admin');
  await page.getByLabel('Password').fill('definitely-wrong');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('login-error')).toContainText('user name or password is incorrect');

  await loginAs(page, 'admin', adminPassword());
  await expect(
    page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Users' }),
  ).toBeVisible();

  // A second page of the same admin watches the projects list, filtered by part of the
  // name (the search box matches "contains"): the new project must appear there live.
  const watcher = await page.context().newPage();
  await watcher.goto('/iam/projects');
  await watcher.getByLabel('Filter by name', { exact: true }).fill(`proj-${suffix}`);
  await expect(watcher.getByText(`No project name contains “proj-${suffix}”.`)).toBeVisible();

  // Create the project.
  await page.goto('/iam/projects');
  await page.getByRole('button', { name: 'Create project' }).click();
  const projectDialog = page.getByRole('dialog');
  await projectDialog.getByRole('button', { name: 'Create project' }).click();
  await expect(projectDialog.getByText('A name is required.')).toBeVisible();
  await projectDialog.getByLabel('Name').fill(project);
  await projectDialog.getByLabel('Description').fill('made by identity.e2e.ts');
  await projectDialog.getByRole('button', { name: 'Create project' }).click();
  await expect(projectDialog).toBeHidden();
  await page.getByLabel('Filter by name', { exact: true }).fill(project);
  await expect(page.getByRole('table', { name: 'Projects' }).getByText(project, { exact: true })).toBeVisible();
  // No reload and no polling: the identity.project.created event made the list refetch.
  await expect(watcher.getByRole('table', { name: 'Projects' }).getByText(project, { exact: true })).toBeVisible();
  await watcher.close();

  // Create the user with role member on it.
  await page.goto('/iam/users');
  await page.getByRole('button', { name: 'Create user' }).click();
  const userDialog = page.getByRole('dialog');
  await userDialog.getByLabel('User name').fill(user);
  await userDialog.getByLabel('Password', { exact: true }).fill(password);
  await userDialog.getByLabel('Confirm password').fill(password);
  await userDialog.getByLabel('Primary project').selectOption({ label: project });
  await userDialog.getByLabel('Role').selectOption({ label: 'member' });
  await userDialog.getByRole('button', { name: 'Create user' }).click();
  await expect(userDialog).toBeHidden();
  await expect(page.getByTestId('toast-success').filter({ hasText: `User ${user} created` })).toBeVisible();

  // Logout revokes the admin session's token for every client.
  const adminToken = await sessionToken(page);
  expect(await tokenStatus(page, adminToken)).toBe(200);
  await logout(page);
  expect([401, 404]).toContain(await tokenStatus(page, adminToken));

  // The new user lands in their project and can switch to nothing else.
  await loginAs(page, user, password);
  await expect(page.getByTestId('current-project')).toHaveText(project);
  await page.getByRole('button', { name: 'Switch project' }).click();
  const items = page.getByTestId('project-list').getByRole('menuitem');
  await expect(items).toHaveCount(1);
  await expect(items.first()).toHaveText(project);
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('roles')).toContainText('member');
  // No admin or identity management for a member.
  const nav = page.getByRole('navigation', { name: 'Main navigation' });
  await expect(nav.getByRole('link', { name: 'Users' })).toHaveCount(0);
  await expect(nav.getByRole('link', { name: 'Hypervisors' })).toHaveCount(0);

  const userToken = await sessionToken(page);
  await logout(page);
  expect([401, 404]).toContain(await tokenStatus(page, userToken));

  // The old session cookie no longer opens the dashboard.
  await page.goto('/project');
  await expect(page).toHaveURL(/\/login\?returnTo=%2Fproject/);

  // Clean up through the UI (and exercise the confirmation dialogs).
  await loginAs(page, 'admin', adminPassword());
  await page.goto('/iam/users');
  await page.getByLabel('Filter by name', { exact: true }).fill(user);
  const userRow = page.getByRole('row').filter({ hasText: user });
  await userRow.getByRole('button', { name: 'Actions' }).click();
  await page.getByRole('menuitem', { name: 'Delete' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByRole('table', { name: 'Users' }).getByText(user, { exact: true })).toHaveCount(0);

  await page.goto('/iam/projects');
  await page.getByLabel('Filter by name', { exact: true }).fill(project);
  const projectRow = page.getByRole('row').filter({ hasText: project });
  await projectRow.getByRole('button', { name: 'Actions' }).click();
  await page.getByRole('menuitem', { name: 'Delete' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByRole('table', { name: 'Projects' }).getByText(project, { exact: true })).toHaveCount(0);
});

test('the project switcher rescopes the session to another project of the user', async ({ page }) => {
  await loginAs(page, 'admin', adminPassword());
  await expect(page.getByTestId('current-project')).toHaveText('admin');

  // Give admin a role on the demo project through the assignments panel.
  await page.goto('/iam/role-assignments');
  await page.getByRole('button', { name: 'Assign role' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Role').selectOption({ label: 'member' });
  await dialog.getByLabel('User', { exact: true }).selectOption({ label: 'admin' });
  await dialog.getByLabel('Project', { exact: true }).selectOption({ label: 'demo' });
  await dialog.getByRole('button', { name: 'Assign' }).click();
  await expect(dialog).toBeHidden();

  const before = await sessionToken(page);
  await page.getByRole('button', { name: 'Switch project' }).click();
  await page.getByTestId('project-list').getByRole('menuitem', { name: 'demo' }).click();
  await expect(page.getByTestId('current-project')).toHaveText('demo');
  const after = await sessionToken(page);
  expect(after).not.toBe(before);
  await page.goto('/project');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('demo');
  await expect(page.getByTestId('roles')).toContainText('member');

  // Back to admin, then remove the grant again.
  await page.getByRole('button', { name: 'Switch project' }).click();
  await page.getByTestId('project-list').getByRole('menuitem', { name: 'admin' }).click();
  await expect(page.getByTestId('current-project')).toHaveText('admin');
  await page.goto('/iam/role-assignments');
  await page.getByLabel('Project', { exact: true }).selectOption({ label: 'demo' });
  const row = page.getByRole('row').filter({ hasText: 'member' }).filter({ hasText: 'admin' });
  await row.getByRole('button', { name: 'Actions' }).click();
  await page.getByRole('menuitem', { name: 'Remove' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Remove' }).click();
  await expect(row).toHaveCount(0);
  await logout(page);
});

test('a token revoked elsewhere sends the browser back to sign in, returning to the same page', async ({ page }) => {
  await loginAs(page, 'admin', adminPassword());
  await page.goto('/iam/roles');
  await expect(page.getByRole('table', { name: 'Roles' }).getByText('member', { exact: true })).toBeVisible();
  const token = await sessionToken(page);
  // Revoked through the Keystone API, as `openstack token revoke` would.
  const res = await page.request.delete('/identity/v3/auth/tokens', {
    headers: { 'X-Auth-Token': token, 'X-Subject-Token': token },
  });
  expect(res.status()).toBe(204);
  // The live revocation event, or else the next tRPC call (401), sends the client to sign in.
  await page
    .getByLabel('Filter by name', { exact: true })
    .fill('admin', { timeout: 3000 })
    .catch(() => {});
  await expect(page).toHaveURL(/\/login\?returnTo=%2Fiam%2Froles/);
  await expect(page.getByText('Your session ended')).toBeVisible();
  await page.getByLabel('User name').fill('admin');
  await page.getByLabel('Password').fill(adminPassword());
  await page.getByLabel('Password').press('Enter');
  await expect(page).toHaveURL(/\/iam\/roles$/);
});
