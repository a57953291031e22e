import { type APIRequestContext, expect, test } from '@playwright/test';
import { adminPassword, login } from './support.ts';

/*
 * The console pages in a real browser against a real guest: a server is created through
 * the REST APIs (as `openstack` would), then `remote-consoles` URLs open noVNC and the
 * xterm.js serial terminal. Timeouts are generous: guests boot slowly on loaded hosts.
 */

async function adminToken(request: APIRequestContext): Promise<string> {
  const res = await request.post('/identity/v3/auth/tokens', {
    data: {
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'admin', domain: { name: 'Default' }, password: adminPassword() } },
        },
        scope: { project: { name: 'admin', domain: { name: 'Default' } } },
      },
    },
  });
  expect(res.status()).toBe(201);
  const token = res.headers()['x-subject-token'];
  if (!token) throw new Error('no X-Subject-Token');
  return token;
}

async function poll<T>(what: string, fn: () => Promise<T | undefined>, limitMs = 240_000): Promise<T> {
  const end = Date.now() + limitMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

test.describe('consoles', () => {
  test.setTimeout(600_000);
  let token = '';
  let serverId = '';
  let flavorId = '';
  const nova = (extra: Record<string, string> = {}) => ({ 'X-Auth-Token': token, ...extra });

  test.beforeAll(async ({ request }) => {
    // Booting a TCG guest on a loaded 2-core host can take minutes: the hook gets the tests' limit.
    test.setTimeout(600_000);
    token = await adminToken(request);
    const flavor = await request.post('/compute/v2.1/flavors', {
      headers: nova(),
      data: { flavor: { name: `e2e-console-${Date.now()}`, ram: 128, vcpus: 1, disk: 1 } },
    });
    expect(flavor.ok()).toBe(true);
    flavorId = ((await flavor.json()) as { flavor: { id: string } }).flavor.id;
    const images = (await (await request.get('/image/v2/images?name=stratus-test', { headers: nova() })).json()) as {
      images: Array<{ id: string }>;
    };
    const imageId = images.images[0]?.id;
    if (!imageId) throw new Error('the seeded stratus-test image is missing');
    const created = await request.post('/compute/v2.1/servers', {
      headers: nova(),
      data: { server: { name: 'e2e-console', imageRef: imageId, flavorRef: flavorId } },
    });
    expect(created.status()).toBe(202);
    serverId = ((await created.json()) as { server: { id: string } }).server.id;
    await poll('ACTIVE', async () => {
      const s = (await (await request.get(`/compute/v2.1/servers/${serverId}`, { headers: nova() })).json()) as {
        server: { status: string };
      };
      if (s.server.status === 'ERROR') throw new Error('server went to ERROR');
      return s.server.status === 'ACTIVE' ? true : undefined;
    });
    await poll('the guest banner', async () => {
      const res = await request.post(`/compute/v2.1/servers/${serverId}/action`, {
        headers: nova(),
        data: { 'os-getConsoleOutput': {} },
      });
      const out = ((await res.json()) as { output?: string }).output ?? '';
      return out.includes('STRATUS-BOOT-OK') ? true : undefined;
    });
  });

  test.afterAll(async ({ request }) => {
    test.setTimeout(300_000);
    if (serverId) await request.delete(`/compute/v2.1/servers/${serverId}`, { headers: nova() });
    if (flavorId) {
      await poll('server deleted', async () =>
        (await request.get(`/compute/v2.1/servers/${serverId}`, { headers: nova() })).status() === 404
          ? true
          : undefined,
      ).catch(() => {});
      await request.delete(`/compute/v2.1/flavors/${flavorId}`, { headers: nova() });
    }
  });

  async function consoleUrl(request: APIRequestContext, protocol: 'vnc' | 'serial'): Promise<string> {
    const res = await request.post(`/compute/v2.1/servers/${serverId}/remote-consoles`, {
      headers: nova({ 'OpenStack-API-Version': 'compute 2.8' }),
      data: { remote_console: { protocol, type: protocol === 'vnc' ? 'novnc' : 'serial' } },
    });
    expect(res.status()).toBe(200);
    return ((await res.json()) as { remote_console: { url: string } }).remote_console.url;
  }

  test('noVNC draws a non-blank frame of the guest screen', async ({ page, request }) => {
    const started = Date.now();
    await page.goto(await consoleUrl(request, 'vnc'));
    await expect(page.getByTestId('console-state')).toHaveAttribute('data-state', 'connected', { timeout: 60_000 });
    const lit = await poll(
      'a drawn frame',
      async () => {
        const n = await page.evaluate(() => {
          const canvas = document.querySelector('[data-testid="vnc-screen"] canvas');
          if (!(canvas instanceof HTMLCanvasElement) || canvas.width === 0) return 0;
          const ctx = canvas.getContext('2d');
          if (!ctx) return 0;
          const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
          let bright = 0;
          for (let i = 0; i < data.length; i += 4)
            if ((data[i] ?? 0) + (data[i + 1] ?? 0) + (data[i + 2] ?? 0) > 120) bright++;
          return bright;
        });
        return n > 100 ? n : undefined;
      },
      60_000,
    );
    expect(lit).toBeGreaterThan(100);
    test.info().annotations.push({ type: 'first-frame-ms', description: String(Date.now() - started) });
  });

  test('typing into the serial terminal shows the guest answer', async ({ page, request }) => {
    await page.goto(await consoleUrl(request, 'serial'));
    await expect(page.getByTestId('console-state')).toHaveAttribute('data-state', 'connected', { timeout: 60_000 });
    const terminal = page.getByTestId('serial-terminal');
    await terminal.click();
    // QEMU drops input for about a second after a reader attaches: retype until answered.
    await poll(
      'the echo',
      async () => {
        await page.keyboard.type('echo e2e-$((6*7))\n');
        await page.waitForTimeout(1000);
        return ((await terminal.textContent()) ?? '').includes('e2e-42') ? true : undefined;
      },
      60_000,
    );
  });

  test('the Log tab follows the console live: a marker printed by the guest appears without reload', async ({
    page,
    context,
    request,
  }) => {
    await login(page);
    // Any request for the whole console output after the tab opened would be polling.
    const polls: string[] = [];
    page.on('request', (r) => {
      if (/consoleOutput|os-getConsoleOutput/.test(r.url())) polls.push(r.url());
    });
    await page.goto(`/project/instances/${serverId}`);
    await page.getByRole('tab', { name: 'Console log' }).click();
    const log = page.getByTestId('console-log');
    await expect(log).toContainText('STRATUS-BOOT-OK', { timeout: 60_000 });
    await expect(page.getByTestId('console-state').first()).toHaveAttribute('data-state', 'connected');

    // Type into the serial console (another tab) a command whose output is a marker.
    const serial = await context.newPage();
    await serial.goto(await consoleUrl(request, 'serial'));
    await expect(serial.getByTestId('console-state')).toHaveAttribute('data-state', 'connected', { timeout: 60_000 });
    const terminal = serial.getByTestId('serial-terminal');
    await terminal.click();
    const marker = `LIVE-${Date.now() % 100000}`;
    // The command line holds $((…)), the output the computed number: only the guest's answer matches.
    const printed = `${marker}-42`;
    await poll(
      'the marker in the Log tab',
      async () => {
        await serial.keyboard.type(`echo ${marker}-$((6*7))\n`);
        return ((await log.textContent().catch(() => '')) ?? '').includes(printed) ? true : undefined;
      },
      60_000,
    );
    await expect(log).toContainText(printed);
    expect(polls).toEqual([]);
    await serial.close();
  });
});
