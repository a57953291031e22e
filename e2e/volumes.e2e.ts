import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, type Locator, type Page, test } from '@playwright/test';
import { bootCliServer, login, os, stateDir, tryOs } from './support.ts';

/*
 * Block storage end to end: create a blank volume in the Volumes panel and see it turn
 * available without reloading (socket.io volume.* events); extend it (a smaller size is
 * refused with core's message, a larger one grows it live); snapshot it and see the
 * snapshot in the Snapshots panel; delete both through their confirmation dialogs.
 * The second test boots a server (with the openstack CLI, from the seeded test image),
 * waits for its guest to finish booting (a detach needs the guest's kernel to release the
 * disk), attaches a volume to it from the volume's page and sees in-use with the device
 * name, then detaches it. Waits are long on purpose: the machine is shared and guests use TCG.
 */

const volumeRow = (page: Page, name: string): Locator =>
  page.getByRole('row').filter({ has: page.locator(`[data-testid="volume-row"][data-name="${name}"]`) });

/** Waits for a status, failing at once (with the fault) when the volume goes to an error status. */
async function expectVolumeStatus(row: Locator, want: string, timeout = 5 * 60_000) {
  const status = row.getByTestId('volume-status').first();
  await expect
    .poll(
      async () => {
        const s = (await status.getAttribute('data-status')) ?? '';
        if (s.startsWith('error') && !want.startsWith('error')) {
          const fault = await row
            .getByTestId('volume-fault')
            .textContent()
            .catch(() => '');
          throw new Error(`the volume went to ${s}: ${fault}`);
        }
        return s;
      },
      { timeout, intervals: [500] },
    )
    .toBe(want);
}

async function rowAction(page: Page, row: Locator, item: string) {
  await row.getByRole('button', { name: 'Actions' }).click();
  await page.getByRole('menuitem', { name: item, exact: true }).click();
}

async function createBlankVolume(page: Page, name: string, size = 1) {
  await page.getByRole('button', { name: 'Create volume' }).click();
  const dialog = page.getByRole('dialog').filter({ hasText: 'Create volume' });
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByLabel('Size (GiB)').fill(String(size));
  await expect(dialog.getByTestId('volume-quota')).toBeVisible();
  await dialog.getByRole('button', { name: 'Create volume' }).click();
  await expect(dialog).toBeHidden({ timeout: 60_000 });
}

test('create a blank volume (available live), extend it, snapshot it, delete both', async ({ page }) => {
  test.setTimeout(15 * 60_000);
  const suffix = Date.now().toString(36);
  const name = `e2e-vol-${suffix}`;
  const snap = `e2e-snap-${suffix}`;
  let ok = false;
  try {
    await login(page);
    await page.goto('/project/volumes');
    await expect(page.getByRole('heading', { name: 'Volumes' })).toBeVisible();
    // Survives only if the page is never reloaded or navigated away from.
    await page.evaluate(() => {
      (window as unknown as { __stratusMarker: string }).__stratusMarker = 'still-here';
    });

    await createBlankVolume(page, name);
    const row = volumeRow(page, name);
    await expect(row).toBeVisible({ timeout: 30_000 });
    await expectVolumeStatus(row, 'available');
    expect(await page.evaluate(() => (window as unknown as { __stratusMarker?: string }).__stratusMarker)).toBe(
      'still-here',
    );
    await page.screenshot({ path: 'test-results/volumes-available.png' });

    // Extend: a size that is not larger is refused with core's (Cinder's) message, inline.
    await rowAction(page, row, 'Extend volume');
    const extend = page.getByRole('dialog').filter({ hasText: 'Extend volume' });
    await extend.getByLabel('New size (GiB)').fill('1');
    await extend.getByRole('button', { name: 'Extend' }).click();
    await expect(extend.getByRole('alert')).toContainText('New size for extend must be greater than current size');
    await extend.getByLabel('New size (GiB)').fill('2');
    await extend.getByRole('button', { name: 'Extend' }).click();
    await expect(extend).toBeHidden({ timeout: 30_000 });
    await expect(row.getByTestId('volume-size')).toHaveText('2 GiB', { timeout: 5 * 60_000 });
    await expectVolumeStatus(row, 'available');

    // Snapshot from the row's menu; it appears in the Snapshots panel and becomes available.
    await rowAction(page, row, 'Create snapshot');
    const snapDialog = page.getByRole('dialog').filter({ hasText: 'Create snapshot' });
    await snapDialog.getByLabel('Name').fill(snap);
    await snapDialog.getByRole('button', { name: 'Create snapshot' }).click();
    await expect(snapDialog).toBeHidden({ timeout: 30_000 });

    // The volume page lists it live too.
    await row.getByRole('link', { name }).click();
    await expect(page.getByRole('heading', { name })).toBeVisible();
    const onPage = page.locator(`[data-testid="snapshot-row"][data-name="${snap}"]`);
    await expect(onPage.getByTestId('snapshot-status')).toHaveAttribute('data-status', 'available', {
      timeout: 5 * 60_000,
    });
    await page.screenshot({ path: 'test-results/volume-detail.png' });

    await page.getByRole('link', { name: 'Snapshots', exact: true }).first().click();
    await expect(page.getByRole('heading', { name: 'Volume snapshots' })).toBeVisible();
    const srow = page
      .getByRole('row')
      .filter({ has: page.locator(`[data-testid="snapshot-row"][data-name="${snap}"]`) });
    await expect(srow.getByTestId('snapshot-status')).toHaveAttribute('data-status', 'available');
    await page.screenshot({ path: 'test-results/volume-snapshots.png' });

    // Delete the snapshot, then the volume, each through its confirmation dialog.
    await srow.getByRole('button', { name: 'Actions' }).click();
    await page.getByRole('menuitem', { name: 'Delete snapshot' }).click();
    await page
      .getByRole('dialog')
      .filter({ hasText: 'Delete snapshot' })
      .getByRole('button', { name: 'Delete' })
      .click();
    await expect(srow).toHaveCount(0, { timeout: 5 * 60_000 });

    await page.getByRole('link', { name: 'Volumes', exact: true }).first().click();
    const again = volumeRow(page, name);
    await expectVolumeStatus(again, 'available');
    await rowAction(page, again, 'Delete volume');
    const confirm = page.getByRole('dialog').filter({ hasText: 'Delete volume' });
    await expect(confirm).toContainText(name);
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await expect(again).toHaveCount(0, { timeout: 5 * 60_000 });
    ok = true;
  } finally {
    if (!ok) cleanup([name], []);
  }
});

test('attach a volume to a running server from the volume page; in-use with its device; detach', async ({ page }) => {
  test.setTimeout(20 * 60_000);
  const suffix = Date.now().toString(36);
  const name = `e2e-att-${suffix}`;
  const server = `e2e-att-vm-${suffix}`;
  const flavor = `e2e-att-fl-${suffix}`;
  let serverId = '';
  try {
    serverId = bootCliServer(server, flavor);
    await login(page);
    await page.goto('/project/volumes');
    await createBlankVolume(page, name);
    const row = volumeRow(page, name);
    await expectVolumeStatus(row, 'available');

    // Wait for the server to be ACTIVE (live, on its list) before attaching.
    await page.goto('/project/instances');
    const srow = page.locator(`[data-testid="server-row"][data-name="${server}"]`);
    await expect(srow.getByTestId('server-status')).toHaveAttribute('data-status', 'ACTIVE', { timeout: 12 * 60_000 });

    // Hot-unplug needs the guest's kernel to release the disk: attach once it has booted.
    await expect
      .poll(() => os(['console', 'log', 'show', serverId]).includes('STRATUS-BOOT-OK'), {
        timeout: 10 * 60_000,
        intervals: [3000],
      })
      .toBe(true);

    await page.goto('/project/volumes');
    await volumeRow(page, name).getByRole('link', { name }).click();
    await expect(page.getByRole('heading', { name })).toBeVisible();
    await page.getByRole('button', { name: 'Attach to instance' }).click();
    const dialog = page.getByRole('dialog').filter({ hasText: 'Attach volume' });
    await dialog.getByLabel('Instance').selectOption({ label: `${server} (ACTIVE)` });
    await dialog.getByRole('button', { name: 'Attach volume' }).click();
    await expect(dialog).toBeHidden({ timeout: 60_000 });

    const status = page.getByRole('heading', { name }).getByTestId('volume-status');
    await expect(status).toHaveAttribute('data-status', 'in-use', { timeout: 5 * 60_000 });
    await expect(page.getByTestId('attachment-device')).toHaveText(/^\/dev\/vd[b-z]$/);
    await expect(page.getByTestId('volume-attachments')).toContainText(server);
    await page.screenshot({ path: 'test-results/volume-attached.png' });

    await page.getByRole('button', { name: 'Detach' }).click();
    const detach = page.getByRole('dialog').filter({ hasText: 'Detach volume' });
    await expect(detach).toContainText(server);
    await detach.getByRole('button', { name: 'Detach' }).click();
    await expect(status).toHaveAttribute('data-status', 'available', { timeout: 5 * 60_000 });

    await page.getByRole('button', { name: 'Delete volume' }).click();
    await page.getByRole('dialog').filter({ hasText: 'Delete volume' }).getByRole('button', { name: 'Delete' }).click();
    await expect(page).toHaveURL(/\/project\/volumes$/);
    await expect(volumeRow(page, name)).toHaveCount(0, { timeout: 5 * 60_000 });
  } finally {
    if (serverId) tryOs(['server', 'delete', '--wait', serverId]);
    tryOs(['flavor', 'delete', flavor]);
    // A failed run leaves its volume behind (the server's delete released it): remove it.
    const left = JSON.parse(os(['volume', 'list', '--name', name, '-f', 'json'])) as Array<{ ID: string }>;
    for (const v of left) os(['volume', 'delete', v.ID]);
  }
});

function demoPassword(): string {
  const m = /^demo password: (\S+)$/m.exec(readFileSync(join(stateDir(), 'credentials.txt'), 'utf8'));
  if (!m?.[1]) throw new Error('no demo password in credentials.txt');
  return m[1];
}

/**
 * After a failed run: removes what the test made (its transfers, volumes in any project,
 * backups), with the admin CLI. Each step is tried on its own so one refusal (e.g. a
 * volume still busy) does not hide the test's own failure.
 */
function cleanup(volumes: string[], backups: string[]) {
  const list = (args: string[]) => tryOs(args, '[]');
  const vols = (
    JSON.parse(list(['volume', 'list', '--all-projects', '-f', 'json'])) as Array<{ ID: string; Name: string }>
  ).filter((v) => volumes.includes(v.Name));
  const transfers = JSON.parse(list(['volume', 'transfer', 'request', 'list', '-f', 'json'])) as Array<{
    ID: string;
    Volume: string;
  }>;
  for (const t of transfers)
    if (vols.some((v) => v.ID === t.Volume)) tryOs(['volume', 'transfer', 'request', 'delete', t.ID]);
  for (const v of vols) tryOs(['volume', 'delete', '--purge', v.ID]);
  const baks = JSON.parse(list(['volume', 'backup', 'list', '-f', 'json'])) as Array<{ ID: string; Name: string }>;
  for (const b of baks) if (backups.includes(b.Name)) tryOs(['volume', 'backup', 'delete', b.ID]);
}

test('back up a volume and restore it; transfer a volume to another project with the key shown once', async ({
  page,
  browser,
}) => {
  test.setTimeout(15 * 60_000);
  const suffix = Date.now().toString(36);
  const name = `e2e-bak-${suffix}`;
  const backup = `${name}-backup`;
  const restored = `${name}-restored`;
  let ok = false;
  try {
    await login(page);
    await page.goto('/project/volumes');
    await createBlankVolume(page, name);
    const row = volumeRow(page, name);
    await expectVolumeStatus(row, 'available');

    // Backup from the row's menu; the Backups panel shows it (with progress while it runs).
    await rowAction(page, row, 'Create backup');
    const bdialog = page.getByRole('dialog').filter({ hasText: `Back up ${name}` });
    await bdialog.getByLabel('Name').fill(backup);
    await bdialog.getByRole('button', { name: 'Create backup' }).click();
    await expect(bdialog).toBeHidden({ timeout: 30_000 });
    await page.getByRole('link', { name: 'Backups', exact: true }).first().click();
    await expect(page.getByRole('heading', { name: 'Volume backups' })).toBeVisible();
    const brow = page
      .getByRole('row')
      .filter({ has: page.locator(`[data-testid="backup-row"][data-name="${backup}"]`) });
    await expect(brow.getByTestId('backup-status')).toHaveAttribute('data-status', 'available', {
      timeout: 5 * 60_000,
    });
    // Where it lives: the stack runs object servers, so the object store, in the default
    // container, linked to the backup's folder in the object browser.
    const where = brow.getByTestId('backup-location');
    await expect(where).toHaveAttribute('data-driver', 'object');
    await expect(where).toContainText('Object store');
    await expect(where.getByRole('link', { name: 'volumebackups' })).toHaveAttribute(
      'href',
      /^\/project\/object-store\/containers\/volumebackups\?path=[0-9a-f-]{36}%2F$/,
    );
    await page.screenshot({ path: 'test-results/volume-backups.png' });

    // Restore into a new volume.
    await brow.getByRole('button', { name: 'Actions' }).click();
    await page.getByRole('menuitem', { name: 'Restore backup' }).click();
    const rdialog = page.getByRole('dialog').filter({ hasText: 'Restore backup' });
    await rdialog.getByLabel('New volume name').fill(restored);
    await rdialog.getByRole('button', { name: 'Restore' }).click();
    await expect(rdialog).toBeHidden({ timeout: 30_000 });
    await page.getByRole('link', { name: 'Volumes', exact: true }).first().click();
    await expectVolumeStatus(volumeRow(page, restored), 'available');
    await page.screenshot({ path: 'test-results/volumes-restored.png' });

    // Transfer: the key is shown once.
    await rowAction(page, volumeRow(page, name), 'Create transfer');
    const tdialog = page.getByRole('dialog').filter({ hasText: 'Transfer volume' });
    await tdialog.getByRole('button', { name: 'Create transfer' }).click();
    await expect(tdialog.getByTestId('transfer-created')).toBeVisible();
    const transferId = await tdialog.getByLabel('Transfer id').inputValue();
    const authKey = await tdialog.getByLabel('Auth key').inputValue();
    expect(authKey).toMatch(/^[0-9a-f]{16}$/);
    await page.screenshot({ path: 'test-results/volume-transfer-key.png' });
    await tdialog.getByRole('button', { name: 'I have saved the key' }).click();
    await expect(tdialog).toBeHidden();
    await expectVolumeStatus(volumeRow(page, name), 'awaiting-transfer', 60_000);

    // The demo project accepts it (a wrong key first is refused with core's message).
    const demo = await browser.newContext();
    try {
      const other = await demo.newPage();
      await other.goto('/login');
      await other.getByLabel('User name').fill('demo');
      await other.getByLabel('Password').fill(demoPassword());
      await other.getByLabel('Password').press('Enter');
      await expect(other).toHaveURL(/\/project$/);
      await other.goto('/project/volumes');
      await other.getByRole('button', { name: 'Accept transfer' }).click();
      const adialog = other.getByRole('dialog').filter({ hasText: 'Accept volume transfer' });
      await adialog.getByLabel('Transfer id').fill(transferId);
      await adialog.getByLabel('Auth key').fill('0000000000000000');
      await adialog.getByRole('button', { name: 'Accept transfer' }).click();
      await expect(adialog.getByRole('alert')).toContainText('Invalid auth key');
      await adialog.getByLabel('Auth key').fill(authKey);
      await adialog.getByRole('button', { name: 'Accept transfer' }).click();
      await expect(adialog).toBeHidden({ timeout: 30_000 });
      const theirs = volumeRow(other, name);
      await expectVolumeStatus(theirs, 'available', 60_000);
      // Gone from the giving project's list, live.
      await expect(volumeRow(page, name)).toHaveCount(0, { timeout: 60_000 });

      await rowAction(other, theirs, 'Delete volume');
      await other
        .getByRole('dialog')
        .filter({ hasText: 'Delete volume' })
        .getByRole('button', { name: 'Delete' })
        .click();
      await expect(theirs).toHaveCount(0, { timeout: 5 * 60_000 });
    } finally {
      await demo.close();
    }

    // Clean up: the restored volume and the backup.
    const rrow = volumeRow(page, restored);
    await rowAction(page, rrow, 'Delete volume');
    await page.getByRole('dialog').filter({ hasText: 'Delete volume' }).getByRole('button', { name: 'Delete' }).click();
    await expect(rrow).toHaveCount(0, { timeout: 5 * 60_000 });
    await page.getByRole('link', { name: 'Backups', exact: true }).first().click();
    const brow2 = page
      .getByRole('row')
      .filter({ has: page.locator(`[data-testid="backup-row"][data-name="${backup}"]`) });
    await brow2.getByRole('button', { name: 'Actions' }).click();
    await page.getByRole('menuitem', { name: 'Delete backup' }).click();
    await page.getByRole('dialog').filter({ hasText: 'Delete backup' }).getByRole('button', { name: 'Delete' }).click();
    await expect(brow2).toHaveCount(0, { timeout: 5 * 60_000 });
    ok = true;
  } finally {
    if (!ok) cleanup([name, restored], [backup]);
  }
});

test("create a volume from an image's row in Images; change its type; delete it", async ({ page }) => {
  test.setTimeout(15 * 60_000);
  const suffix = Date.now().toString(36);
  const name = `e2e-img-vol-${suffix}`;
  const type = `e2e-gold-${suffix}`;
  const images = JSON.parse(os(['image', 'list', '--status', 'active', '-f', 'json'])) as Array<{ Name: string }>;
  const image = images.find((i) => i.Name.startsWith('stratus-test'))?.Name;
  expect(image, 'the stack seeds a stratus-test image').toBeTruthy();
  // A type without a backend name: the volume's backend serves it, so retype needs no migration.
  os(['volume', 'type', 'create', '--public', type]);
  let ok = false;
  try {
    await login(page);
    await page.goto('/project/images');
    const irow = page
      .getByRole('row')
      .filter({ has: page.locator(`[data-testid="image-row"][data-name="${image}"]`) })
      .first();
    await rowAction(page, irow, 'Create volume');
    const dialog = page.getByRole('dialog').filter({ hasText: 'Create volume' });
    await expect(dialog.getByLabel('Volume source')).toHaveValue('image');
    const imageId = os(['image', 'show', String(image), '-f', 'value', '-c', 'id']);
    await expect(dialog.getByLabel('Image', { exact: true })).toHaveValue(imageId);
    await dialog.getByLabel('Name').fill(name);
    await dialog.getByRole('button', { name: 'Create volume' }).click();
    await expect(dialog).toBeHidden({ timeout: 60_000 });
    await expect(page).toHaveURL(/\/project\/volumes$/);
    const row = volumeRow(page, name);
    await expectVolumeStatus(row, 'available');

    // Change type: the dialog lists the other types; the row shows the new one live.
    await rowAction(page, row, 'Change volume type');
    const retype = page.getByRole('dialog').filter({ hasText: 'Change type of' });
    await retype.getByLabel('New type').selectOption({ label: type });
    await retype.getByRole('button', { name: 'Change type' }).click();
    await expect(retype).toBeHidden({ timeout: 30_000 });
    await expect(row.getByText(type, { exact: true })).toBeVisible({ timeout: 30_000 });
    expect(os(['volume', 'show', name, '-f', 'value', '-c', 'type'])).toBe(type);
    await page.screenshot({ path: 'test-results/volume-retyped.png' });

    await rowAction(page, row, 'Delete volume');
    await page.getByRole('dialog').filter({ hasText: 'Delete volume' }).getByRole('button', { name: 'Delete' }).click();
    await expect(row).toHaveCount(0, { timeout: 5 * 60_000 });
    ok = true;
  } finally {
    if (!ok) cleanup([name], []);
    os(['volume', 'type', 'delete', type]);
  }
});
