import { expect, test } from '@playwright/test';
import { bootCliServer, login, os, tryOs } from './support.ts';

/*
 * Block storage from the compute side: the project Overview shows the block-storage quota
 * section, and counts a new volume live; an instance's Volumes tab attaches a volume
 * (chosen among the project's available ones), lists it with its device and follows it to
 * attached without reload, `openstack server show` lists it in volumes_attached, then
 * detaches it through the confirmation and the row leaves the list live. The server is
 * booted with the openstack CLI from the seeded test image (as e2e/volumes.e2e.ts does)
 * and the detach waits for the guest to have booted (its kernel must release the disk).
 */

/** A volume's status through the CLI (the worker's progress, independent of the page). */
const volumeStatus = (id: string) => os(['volume', 'show', id, '-f', 'value', '-c', 'status']);

test('Overview shows block-storage quotas; attach a volume from the instance page, see its device, detach', async ({
  page,
}) => {
  test.setTimeout(25 * 60_000);
  const suffix = Date.now().toString(36);
  const server = `e2e-iv-vm-${suffix}`;
  const flavor = `e2e-iv-fl-${suffix}`;
  const volume = `e2e-iv-vol-${suffix}`;
  let serverId = '';
  let volumeId = '';
  try {
    serverId = bootCliServer(server, flavor);
    await login(page);

    // The Overview's block-storage section; a new volume moves its gauges without reload.
    const section = page.getByTestId('quota-section-volume');
    await expect(section).toBeVisible();
    await expect(page.getByRole('heading', { name: 'Block storage quota' })).toBeVisible();
    for (const r of ['volumes', 'gigabytes', 'snapshots', 'backups'])
      await expect(section.getByTestId(`quota-${r}`)).toBeVisible();
    const volumesGauge = section.getByTestId('quota-volumes');
    const gbGauge = section.getByTestId('quota-gigabytes');
    const usedVolumes = Number(await volumesGauge.getAttribute('data-used'));
    const usedGb = Number(await gbGauge.getAttribute('data-used'));
    expect(Number(await volumesGauge.getAttribute('data-limit'))).not.toBe(0);
    await expect(gbGauge).toContainText('GiB');
    volumeId = os(['volume', 'create', '--size', '1', volume, '-f', 'value', '-c', 'id']);
    await expect(volumesGauge).toHaveAttribute('data-used', String(usedVolumes + 1), { timeout: 60_000 });
    await expect(gbGauge).toHaveAttribute('data-used', String(usedGb + 1));
    await section.screenshot({ path: 'test-results/overview-volume-quota.png' });
    await expect.poll(() => volumeStatus(volumeId), { timeout: 5 * 60_000, intervals: [1000] }).toBe('available');

    // The instance page; wait (live) for ACTIVE, then for the guest's boot before hot-plugging.
    await page.goto('/project/instances');
    const srow = page.locator(`[data-testid="server-row"][data-name="${server}"]`);
    await expect(srow.getByTestId('server-status')).toHaveAttribute('data-status', 'ACTIVE', { timeout: 12 * 60_000 });
    await expect
      .poll(() => os(['console', 'log', 'show', serverId]).includes('STRATUS-BOOT-OK'), {
        timeout: 10 * 60_000,
        intervals: [3000],
      })
      .toBe(true);
    // The row menu offers "Attach volume" too (Horizon's row action); Escape closes its dialog.
    await srow.getByRole('button', { name: `Actions for ${server}` }).click();
    await page.getByRole('menuitem', { name: 'Attach volume', exact: true }).click();
    const fromRow = page.getByRole('dialog').filter({ hasText: `Attach a volume to ${server}` });
    await expect(fromRow.getByRole('option', { name: `${volume} (1 GiB)` })).toBeAttached();
    await page.keyboard.press('Escape');
    await expect(fromRow).toBeHidden();
    await srow.getByRole('link', { name: server }).click();
    await expect(page.getByRole('heading', { name: server })).toBeVisible();
    await page.getByRole('tab', { name: 'Volumes' }).click();
    await expect(page.getByTestId('instance-volumes-empty')).toBeVisible();

    // Attach: the dialog offers the project's available volumes.
    await page.getByRole('button', { name: 'Attach volume' }).click();
    const dialog = page.getByRole('dialog').filter({ hasText: `Attach a volume to ${server}` });
    await dialog.getByLabel('Volume').selectOption({ label: `${volume} (1 GiB)` });
    await dialog.getByRole('button', { name: 'Attach volume' }).click();
    await expect(dialog).toBeHidden({ timeout: 60_000 });

    const row = page.locator(`[data-testid="instance-volume-row"][data-volume-id="${volumeId}"]`);
    await expect(row).toBeVisible({ timeout: 30_000 });
    await expect(row.getByTestId('instance-volume-device')).toHaveText(/^\/dev\/vd[b-z]$/);
    await expect(row.getByTestId('volume-status')).toHaveAttribute('data-status', 'in-use', { timeout: 5 * 60_000 });
    await expect(row.getByRole('link', { name: volume })).toHaveAttribute('href', `/project/volumes/${volumeId}`);
    const device = (await row.getByTestId('instance-volume-device').textContent()) ?? '';
    await page.screenshot({ path: 'test-results/instance-volumes.png' });

    // Nova's view agrees: volumes_attached lists the volume; the attachment has the same device.
    expect(os(['server', 'show', serverId, '-f', 'value', '-c', 'volumes_attached'])).toContain(volumeId);
    expect(os(['volume', 'show', volumeId, '-f', 'json', '-c', 'attachments'])).toContain(device);

    // Detach through the confirmation; the row leaves live.
    await row.getByRole('button', { name: `Detach ${volume}` }).click();
    const confirm = page.getByRole('dialog').filter({ hasText: 'Detach volume' });
    await expect(confirm).toContainText(server);
    await expect(confirm).toContainText(device);
    await confirm.getByRole('button', { name: 'Detach', exact: true }).click();
    await expect(confirm).toBeHidden({ timeout: 60_000 });
    await expect(row).toHaveCount(0, { timeout: 5 * 60_000 });
    await expect(page.getByTestId('instance-volumes-empty')).toBeVisible();
    await expect.poll(() => volumeStatus(volumeId), { timeout: 5 * 60_000, intervals: [1000] }).toBe('available');
    expect(os(['server', 'show', serverId, '-f', 'value', '-c', 'volumes_attached'])).not.toContain(volumeId);
  } finally {
    if (serverId) tryOs(['server', 'delete', '--wait', serverId]);
    tryOs(['flavor', 'delete', flavor]);
    if (volumeId) tryOs(['volume', 'delete', volumeId]);
  }
});
