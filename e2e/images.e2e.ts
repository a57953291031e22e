import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { login } from './support.ts';

/*
 * Images panel end to end: upload a file from the browser, watch the progress bar move
 * (the upload is throttled so there is something to see), and see the image turn active;
 * then delete it with the confirmation dialog.
 */

test('upload an image from the Images panel with a progress bar; it becomes active', async ({ page }) => {
  test.setTimeout(300_000);
  const dir = mkdtempSync(join(tmpdir(), 'stratus-e2e-img-'));
  const name = `e2e-upload-${Date.now().toString(36)}`;
  try {
    // A qcow2 with 6 MiB of data in it, so the upload takes a few seconds when throttled.
    const raw = join(dir, 'data.raw');
    writeFileSync(raw, randomBytes(6 * 1024 * 1024));
    const file = join(dir, `${name}.qcow2`);
    execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, file]);

    await login(page);
    await page.goto('/project/images');
    await expect(page.getByRole('heading', { name: 'Images' })).toBeVisible();

    // Slow the upload down (≈1.5 MB/s) so the progress bar is observable.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 1.5 * 1024 * 1024,
    });

    await page.getByRole('button', { name: 'Upload image' }).click();
    const dialog = page.getByRole('dialog').filter({ hasText: 'Upload image' });
    await dialog.getByLabel('File').setInputFiles(file);
    await expect(dialog.getByLabel('Image name')).toHaveValue(name);
    await expect(dialog.getByLabel('Disk format')).toHaveValue('qcow2');
    await dialog.getByRole('button', { name: 'Upload' }).click();

    const bar = dialog.getByRole('progressbar', { name: 'Upload progress' });
    await expect(bar).toBeVisible();
    // The bar moves: some value strictly between 0 and 100 is seen while bytes flow.
    await expect
      .poll(async () => Number((await bar.getAttribute('aria-valuenow').catch(() => null)) ?? 0), {
        timeout: 60_000,
        intervals: [100],
      })
      .toBeGreaterThan(0);
    await page.screenshot({ path: 'test-results/images-upload-progress.png' });

    await expect(dialog).toBeHidden({ timeout: 120_000 });
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });

    const row = page.getByRole('row').filter({ has: page.locator(`[data-testid="image-row"][data-name="${name}"]`) });
    await expect(row.getByTestId('image-status')).toHaveAttribute('data-status', 'active', { timeout: 60_000 });
    await page.screenshot({ path: 'test-results/images-list.png' });

    // Detail page shows the size the store measured.
    await row.getByRole('link', { name }).click();
    await expect(page.getByRole('heading', { name })).toBeVisible();
    await expect(page.getByText('qcow2').first()).toBeVisible();
    await page.screenshot({ path: 'test-results/image-detail.png' });

    // Delete through the confirmation dialog.
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog').filter({ hasText: 'Delete image' }).getByRole('button', { name: 'Delete' }).click();
    await expect(page).toHaveURL(/\/project\/images$/);
    await expect(page.locator(`[data-testid="image-row"][data-name="${name}"]`)).toHaveCount(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
