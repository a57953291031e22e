import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, type Page, test } from '@playwright/test';
import { login } from './support.ts';

/*
 * Compute end to end: an admin makes sure a flavor and an image exist (through the
 * Flavors and Images panels), launches an instance with the wizard, and sees its row go
 * from BUILD to ACTIVE without reloading the page (socket.io events, no polling); the
 * instance page shows the task timeline; the instance is then deleted.
 * Real guests boot slowly on a loaded machine: the waits are long on purpose.
 */

/** The seeded test image if the stack registered one, else a small qcow2 uploaded through the panel. */
async function ensureImage(page: Page, name: string, dir: string): Promise<{ name: string; uploaded: boolean }> {
  await page.goto('/project/images');
  const active = page.locator('[data-testid="image-status"][data-status="active"]');
  await expect(page.getByRole('table', { name: 'Images' })).toBeVisible();
  await page.waitForLoadState('networkidle');
  const seeded = page.getByRole('row').filter({ has: active }).filter({ hasText: 'stratus-test' });
  if ((await seeded.count()) > 0) {
    const n = await seeded.first().locator('[data-testid="image-row"]').getAttribute('data-name');
    if (n) return { name: n, uploaded: false };
  }
  const file = join(dir, `${name}.qcow2`);
  execFileSync('qemu-img', ['create', '-f', 'qcow2', file, '64M']);
  await page.getByRole('button', { name: 'Upload image' }).click();
  const dialog = page.getByRole('dialog').filter({ hasText: 'Upload image' });
  await dialog.getByLabel('File').setInputFiles(file);
  await dialog.getByLabel('Image name').fill(name);
  await dialog.getByRole('button', { name: 'Upload' }).click();
  await expect(dialog).toBeHidden({ timeout: 120_000 });
  await expect(
    page
      .locator(`[data-testid="image-row"][data-name="${name}"]`)
      .locator('xpath=ancestor::tr')
      .getByTestId('image-status'),
  ).toHaveAttribute('data-status', 'active', { timeout: 60_000 });
  return { name, uploaded: true };
}

async function createFlavor(page: Page, name: string) {
  await page.goto('/admin/flavors');
  await page.getByRole('button', { name: 'Create flavor' }).click();
  const dialog = page.getByRole('dialog').filter({ hasText: 'Create flavor' });
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByLabel('vCPUs').fill('1');
  await dialog.getByLabel('RAM (MB)').fill('256');
  await dialog.getByLabel('Root disk (GB)').fill('1');
  await dialog.getByRole('button', { name: 'Create flavor' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByRole('row').filter({ hasText: name })).toBeVisible();
}

test('launch an instance from the wizard; its row turns ACTIVE live; delete it', async ({ page }) => {
  test.setTimeout(15 * 60_000);
  const suffix = Date.now().toString(36);
  const flavor = `e2e-tiny-${suffix}`;
  const server = `e2e-vm-${suffix}`;
  const dir = mkdtempSync(join(tmpdir(), 'stratus-e2e-compute-'));
  let uploaded: string | null = null;
  try {
    await login(page);
    await createFlavor(page, flavor);
    const image = await ensureImage(page, `e2e-image-${suffix}`, dir);
    if (image.uploaded) uploaded = image.name;

    await page.goto('/project/instances');
    await expect(page.getByRole('heading', { name: 'Instances' })).toBeVisible();
    // Survives only if the page is never reloaded or navigated away from.
    await page.evaluate(() => {
      (window as unknown as { __stratusMarker: string }).__stratusMarker = 'still-here';
    });

    await page.getByRole('button', { name: 'Launch instance' }).first().click();
    const wizard = page.getByRole('dialog').filter({ hasText: 'Launch instance' });
    await wizard.getByLabel('Instance name').fill(server);
    await wizard.getByLabel('Instance name').press('Enter'); // Enter goes to the next step
    await wizard.getByRole('radio', { name: image.name, exact: true }).check();
    await wizard.getByRole('button', { name: 'Next' }).click();
    await expect(wizard.getByTestId('quota-left')).toBeVisible();
    await wizard.getByRole('radio', { name: flavor, exact: true }).check();
    await wizard.getByRole('button', { name: 'Next' }).click();
    await expect(wizard.getByText(/No networks yet|Attach the instance/)).toBeVisible();
    await page.screenshot({ path: 'test-results/compute-wizard.png' });
    await wizard.getByRole('button', { name: 'Launch instance' }).click();
    await expect(wizard).toBeHidden({ timeout: 60_000 });

    const row = page.locator(`[data-testid="server-row"][data-name="${server}"]`);
    await expect(row).toBeVisible({ timeout: 30_000 });
    const status = row.getByTestId('server-status');
    await page.screenshot({ path: 'test-results/compute-build.png' });

    // BUILD → ACTIVE by live events. An ERROR fails at once with the fault shown inline.
    await expect
      .poll(
        async () => {
          const s = await status.getAttribute('data-status');
          if (s === 'ERROR') {
            const fault = await row
              .getByTestId('server-fault')
              .textContent()
              .catch(() => '');
            throw new Error(`the instance went to ERROR: ${fault}`);
          }
          return s;
        },
        { timeout: 12 * 60_000, intervals: [1000] },
      )
      .toBe('ACTIVE');
    expect(await page.evaluate(() => (window as unknown as { __stratusMarker?: string }).__stratusMarker)).toBe(
      'still-here',
    );
    await expect(page).toHaveURL(/\/project\/instances$/);
    await page.screenshot({ path: 'test-results/compute-active.png' });

    // The instance page: the task timeline of the create action.
    await row.getByRole('link', { name: server }).click();
    await expect(page.getByRole('heading', { name: server })).toBeVisible();
    await page.getByRole('tab', { name: 'Action log' }).click();
    await expect(page.locator('[data-testid="action-event"][data-event="compute_spawn"]')).toBeVisible({
      timeout: 30_000,
    });
    await page.screenshot({ path: 'test-results/compute-timeline.png' });
    await page.getByRole('tab', { name: 'Console log' }).click();
    // The log follows live (no Refresh button since the live follow); its tail and "show full log" are there.
    await expect(page.getByTestId('console-log')).toBeVisible();
    await expect(page.getByRole('button', { name: 'Show full log' })).toBeVisible();
    await page.screenshot({ path: 'test-results/compute-console-log.png' });

    // Delete from the list, through the confirmation dialog; the row goes away live.
    await page.getByRole('link', { name: 'Instances' }).first().click();
    const again = page.locator(`[data-testid="server-row"][data-name="${server}"]`);
    await again.getByRole('button', { name: `Actions for ${server}` }).click();
    await page.getByRole('menuitem', { name: 'Delete' }).click();
    await page
      .getByRole('dialog')
      .filter({ hasText: 'Delete instance' })
      .getByRole('button', { name: 'Delete' })
      .click();
    await expect(again).toHaveCount(0, { timeout: 5 * 60_000 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // Leave the stack as found: the uploaded image and the flavor go too.
  if (uploaded) {
    await page.goto('/project/images');
    const irow = page
      .getByRole('row')
      .filter({ has: page.locator(`[data-testid="image-row"][data-name="${uploaded}"]`) });
    await irow.getByRole('button', { name: 'Actions' }).click();
    await page.getByRole('menuitem', { name: 'Delete' }).click();
    await page.getByRole('dialog').filter({ hasText: 'Delete image' }).getByRole('button', { name: 'Delete' }).click();
    await expect(irow).toHaveCount(0);
  }
  await page.goto('/admin/flavors');
  const frow = page.getByRole('row').filter({ hasText: flavor });
  await frow.getByRole('button', { name: 'Actions' }).click();
  await page.getByRole('menuitem', { name: 'Delete' }).click();
  await page.getByRole('dialog').filter({ hasText: 'Delete flavor' }).getByRole('button', { name: 'Delete' }).click();
  await expect(frow).toHaveCount(0);
});
