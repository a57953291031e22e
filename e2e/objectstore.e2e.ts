import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, type Page, test } from '@playwright/test';
import { adminPassword, login } from './support.ts';

/*
 * Object Store browser end to end, against a running stack with the object role:
 * create a container, upload two files from the browser (throttled, so each progress bar
 * is seen moving), see both listed, download one and compare its bytes, make the container
 * public and read the object through its public URL without a token, delete an object and
 * then the container (with its contents) through the confirmation dialogs.
 */

/** Opens a row's action menu and picks an item. */
async function rowAction(page: Page, testId: string, name: string, action: string) {
  const row = page.getByRole('row').filter({ has: page.locator(`[data-testid="${testId}"][data-name="${name}"]`) });
  await row.getByRole('button', { name: 'Actions' }).click();
  await page.getByRole('menuitem', { name: action }).click();
}

test('object store: create, upload two files with progress, download, make public, delete', async ({ page }) => {
  test.setTimeout(300_000);
  const dir = mkdtempSync(join(tmpdir(), 'stratus-e2e-obj-'));
  const container = `e2e-objects-${Date.now().toString(36)}`;
  try {
    // Two files of random bytes: a few MiB each so a throttled upload takes seconds.
    const a = join(dir, 'alpha.bin');
    const b = join(dir, 'beta notes.txt');
    writeFileSync(a, randomBytes(3 * 1024 * 1024));
    writeFileSync(b, randomBytes(2 * 1024 * 1024));

    await login(page);
    await page.goto('/project/object-store');
    await expect(page.getByRole('heading', { name: 'Object Store' })).toBeVisible();

    // Create the container.
    await page.getByRole('button', { name: 'Create container' }).click();
    const create = page.getByRole('dialog').filter({ hasText: 'Create container' });
    await create.getByLabel('Container name').fill(container);
    await create.getByRole('button', { name: 'Create' }).click();
    await expect(create).toBeHidden();
    const link = page.locator(`[data-testid="container-row"][data-name="${container}"]`);
    await expect(link).toBeVisible();
    await link.click();
    await expect(page).toHaveURL(new RegExp(`/project/object-store/containers/${container}$`));
    await expect(page.getByRole('heading', { name: container })).toBeVisible();
    await expect(page.getByText('This folder is empty.', { exact: false })).toBeVisible();

    // Slow uploads down (≈1 MB/s) so both progress bars are observable.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 1024 * 1024,
    });
    await page.getByLabel('Files to upload').setInputFiles([a, b]);
    const uploads = page.getByRole('region', { name: 'Uploads' });
    const barA = uploads.getByRole('progressbar', { name: 'Upload of alpha.bin' });
    const barB = uploads.getByRole('progressbar', { name: 'Upload of beta notes.txt' });
    await expect(barA).toBeVisible();
    await expect(barB).toBeVisible();
    // Each bar moves: a value strictly between 0 and 100 is seen while its bytes flow.
    const seen = { a: new Set<number>(), b: new Set<number>() };
    await expect
      .poll(
        async () => {
          for (const [k, bar] of [
            ['a', barA],
            ['b', barB],
          ] as const) {
            const v = Number((await bar.getAttribute('aria-valuenow').catch(() => null)) ?? 0);
            seen[k].add(v);
          }
          const moving = (s: Set<number>) => [...s].some((v) => v > 0 && v < 100);
          return moving(seen.a) && moving(seen.b);
        },
        { timeout: 90_000, intervals: [100] },
      )
      .toBe(true);
    await page.screenshot({ path: 'test-results/objectstore-upload-progress.png' });
    await expect(uploads.locator('[data-testid="upload-item"][data-status="done"]')).toHaveCount(2, {
      timeout: 120_000,
    });
    await expect(barA).toHaveAttribute('aria-valuenow', '100');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });

    // Both are listed.
    await expect(page.locator('[data-testid="object-row"][data-name="alpha.bin"]')).toBeVisible();
    await expect(page.locator('[data-testid="object-row"][data-name="beta notes.txt"]')).toBeVisible();
    await page.screenshot({ path: 'test-results/objectstore-listed.png' });

    // Download one: the same bytes come back.
    const download = page.waitForEvent('download');
    await page.getByRole('link', { name: 'Download alpha.bin' }).click();
    const d = await download;
    expect(d.suggestedFilename()).toBe('alpha.bin');
    const saved = await d.path();
    expect(readFileSync(saved).equals(readFileSync(a))).toBe(true);

    // Make it public: the public URL reads without a token.
    await expect(page.getByText('Private', { exact: true })).toBeVisible();
    await page.getByRole('button', { name: 'Make public' }).click();
    const urlBox = page.getByLabel('Public URL');
    await expect(urlBox).toBeVisible();
    const publicUrl = await urlBox.inputValue();
    expect(publicUrl).toMatch(new RegExp(`/object-store/v1/AUTH_[0-9a-f]+/${container}$`));
    const anon = await fetch(`${publicUrl}/${encodeURIComponent('beta notes.txt')}`);
    expect(anon.status).toBe(200);
    expect(Buffer.from(await anon.arrayBuffer()).equals(readFileSync(b))).toBe(true);
    // .rlistings: the listing is public too.
    const listing = await fetch(publicUrl);
    expect(listing.status).toBe(200);
    expect((await listing.text()).split('\n').filter(Boolean).sort()).toEqual(['alpha.bin', 'beta notes.txt']);

    // Delete one object through its confirmation.
    await rowAction(page, 'object-row', 'beta notes.txt', 'Delete');
    const confirmObject = page.getByRole('dialog').filter({ hasText: 'Delete object' });
    await expect(confirmObject).toContainText('beta notes.txt');
    await confirmObject.getByRole('button', { name: 'Delete' }).click();
    await expect(page.locator('[data-testid="object-row"][data-name="beta notes.txt"]')).toHaveCount(0);
    expect((await fetch(`${publicUrl}/${encodeURIComponent('beta notes.txt')}`)).status).toBe(404);

    // Delete the container: refused while it holds an object, then deleted with its contents.
    await page.getByRole('link', { name: 'Containers' }).click();
    await expect(page.getByRole('heading', { name: 'Object Store' })).toBeVisible();
    await rowAction(page, 'container-row', container, 'Delete');
    const confirmContainer = page.getByRole('dialog').filter({ hasText: 'Delete container' });
    await confirmContainer.getByRole('button', { name: 'Delete' }).click();
    const notEmpty = page.getByRole('dialog').filter({ hasText: 'Container is not empty' });
    await expect(notEmpty).toBeVisible();
    await notEmpty.getByRole('button', { name: 'Delete with contents' }).click();
    await expect(notEmpty).toBeHidden({ timeout: 60_000 });
    await expect(page.locator(`[data-testid="container-row"][data-name="${container}"]`)).toHaveCount(0);
    // Gone for anonymous readers too (no container, no ACL: 401).
    expect([401, 404]).toContain((await fetch(`${publicUrl}/alpha.bin`)).status);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A Keystone token for the admin, to look at what the dashboard wrote through the Swift API. */
async function adminToken(baseURL: string): Promise<string> {
  const r = await fetch(`${baseURL}/identity/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'admin', domain: { id: 'default' }, password: adminPassword() } },
        },
        scope: { project: { name: 'admin', domain: { id: 'default' } } },
      },
    }),
  });
  expect(r.status).toBe(201);
  const t = r.headers.get('x-subject-token');
  if (!t) throw new Error('no X-Subject-Token');
  return t;
}

test('object store: folders, breadcrumbs, filter, metadata, odd names', async ({ page, baseURL }) => {
  test.setTimeout(300_000);
  const dir = mkdtempSync(join(tmpdir(), 'stratus-e2e-obj-'));
  // A space and a percent sign: the container's URL segment must round-trip exactly.
  const container = `e2e dir %41 ${Date.now().toString(36)}`;
  try {
    const file = join(dir, 'summary.txt');
    writeFileSync(file, 'quarterly numbers\n');
    await login(page);
    await page.goto('/project/object-store');
    await page.getByRole('button', { name: 'Create container' }).click();
    const create = page.getByRole('dialog').filter({ hasText: 'Create container' });
    await create.getByLabel('Container name').fill(container);
    await create.getByRole('button', { name: 'Create' }).click();
    await page.locator(`[data-testid="container-row"][data-name="${container}"]`).click();
    await expect(page.getByRole('heading', { name: container })).toBeVisible();
    await expect(page.getByText('0 objects')).toBeVisible();

    // Nested pseudo-folders from one name.
    await page.getByRole('button', { name: 'Create folder' }).click();
    const folder = page.getByRole('dialog').filter({ hasText: 'Create folder' });
    await folder.getByLabel('Folder name').fill('reports/2026');
    await folder.getByRole('button', { name: 'Create' }).click();
    await expect(folder).toBeHidden();
    await page.locator('[data-testid="folder-row"][data-name="reports/"]').click();
    await expect(page).toHaveURL(/\?path=reports%2F$/);
    await page.locator('[data-testid="folder-row"][data-name="reports/2026/"]').click();
    const crumbs = page.getByRole('navigation', { name: 'Breadcrumb' });
    await expect(crumbs).toContainText(`Containers/${container}/reports/2026`);
    await expect(crumbs.getByText('2026')).toHaveAttribute('aria-current', 'page');

    // An upload lands in the folder shown.
    await page.getByLabel('Files to upload').setInputFiles(file);
    const row = page.locator('[data-testid="object-row"][data-name="reports/2026/summary.txt"]');
    await expect(row).toBeVisible();
    await expect(row).toHaveText('summary.txt');

    // A slow upload can be cancelled part-way: nothing is stored.
    const big = join(dir, 'big.bin');
    writeFileSync(big, randomBytes(4 * 1024 * 1024));
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 256 * 1024,
    });
    await page.getByLabel('Files to upload').setInputFiles(big);
    const bigBar = page.getByRole('progressbar', { name: 'Upload of reports/2026/big.bin' });
    await expect
      .poll(async () => Number((await bigBar.getAttribute('aria-valuenow').catch(() => null)) ?? 0), {
        timeout: 60_000,
        intervals: [100],
      })
      .toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Cancel upload of reports/2026/big.bin' }).click();
    await expect(page.locator('[data-testid="upload-item"][data-status="cancelled"]')).toHaveCount(1);
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });

    // Object metadata, with a non-ASCII value.
    await rowAction(page, 'object-row', 'reports/2026/summary.txt', 'Edit metadata');
    const meta = page.getByRole('dialog').filter({ hasText: 'Object metadata' });
    await meta.getByRole('button', { name: 'Add metadata' }).click();
    await meta.getByLabel('Metadata name 1').fill('Owner');
    await meta.getByLabel('Metadata value 1').fill('Zoë');
    await meta.getByRole('button', { name: 'Save' }).click();
    await expect(meta).toBeHidden();
    const token = await adminToken(baseURL ?? '');
    const account = await page.evaluate(async () => {
      const r = await fetch('/api/trpc/objectStore.account.get');
      const j = (await r.json()) as { result: { data: { path: string } } };
      return j.result.data.path;
    });
    const objPath = `${baseURL}${account}/${encodeURIComponent(container)}/reports/2026/summary.txt`;
    const head = await fetch(objPath, { method: 'HEAD', headers: { 'X-Auth-Token': token } });
    expect(head.status).toBe(200);
    // Header values arrive as bytes (latin1 characters): UTF-8 as swift clients send it.
    expect(Buffer.from(head.headers.get('x-object-meta-owner') ?? '', 'latin1').toString('utf8')).toBe('Zoë');
    expect(head.headers.get('content-type')).toBe('text/plain');
    expect(
      (await fetch(objPath.replace(/summary\.txt$/, 'big.bin'), { method: 'HEAD', headers: { 'X-Auth-Token': token } }))
        .status,
    ).toBe(404);
    await expect(page.locator('[data-testid="object-row"][data-name="reports/2026/big.bin"]')).toHaveCount(0);
    // The editor shows what is stored.
    await rowAction(page, 'object-row', 'reports/2026/summary.txt', 'Edit metadata');
    await expect(meta.getByLabel('Metadata name 1')).toHaveValue('owner');
    await expect(meta.getByLabel('Metadata value 1')).toHaveValue('Zoë');
    await meta.getByRole('button', { name: 'Cancel' }).click();

    // Container metadata.
    await page.getByRole('button', { name: 'Metadata' }).click();
    const cmeta = page.getByRole('dialog').filter({ hasText: 'Container metadata' });
    await cmeta.getByRole('button', { name: 'Add metadata' }).click();
    await cmeta.getByLabel('Metadata name 1').fill('color');
    await cmeta.getByLabel('Metadata value 1').fill('blue');
    await cmeta.getByRole('button', { name: 'Save' }).click();
    await expect(cmeta).toBeHidden();
    const chead = await fetch(`${baseURL}${account}/${encodeURIComponent(container)}`, {
      method: 'HEAD',
      headers: { 'X-Auth-Token': token },
    });
    expect(chead.headers.get('x-container-meta-color')).toBe('blue');

    // Back up through the breadcrumbs; filter by prefix.
    await crumbs.getByRole('link', { name: container }).click();
    await expect(page.locator('[data-testid="folder-row"][data-name="reports/"]')).toBeVisible();
    await page.getByLabel('Filter by prefix').fill('zzz');
    await expect(page.getByText('Nothing here starts with “zzz”.')).toBeVisible();
    await page.getByLabel('Filter by prefix').fill('rep');
    await expect(page.locator('[data-testid="folder-row"][data-name="reports/"]')).toBeVisible();

    // Delete the folder with everything in it, then the (now empty) container.
    await rowAction(page, 'folder-row', 'reports/', 'Delete');
    const confirmFolder = page.getByRole('dialog').filter({ hasText: 'Delete folder' });
    await confirmFolder.getByRole('button', { name: 'Delete' }).click();
    await expect(confirmFolder).toBeHidden({ timeout: 60_000 });
    await expect(page.locator('[data-testid="folder-row"]')).toHaveCount(0);
    const list = await fetch(`${baseURL}${account}/${encodeURIComponent(container)}`, {
      headers: { 'X-Auth-Token': token },
    });
    expect(list.status).toBe(204);
    await page.getByRole('link', { name: 'Containers' }).click();
    await rowAction(page, 'container-row', container, 'Delete');
    const confirmContainer = page.getByRole('dialog').filter({ hasText: 'Delete container' });
    await confirmContainer.getByRole('button', { name: 'Delete' }).click();
    await expect(confirmContainer).toBeHidden();
    await expect(page.locator(`[data-testid="container-row"][data-name="${container}"]`)).toHaveCount(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
