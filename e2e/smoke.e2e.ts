import { expect, test } from '@playwright/test';

test('the dashboard is served and the cloud reports ready with a worker', async ({ page, request }) => {
  const health = await request.get('/healthz');
  expect(health.ok()).toBe(true);
  const ready = await request.get('/readyz');
  expect(ready.status()).toBe(200);
  const body = (await ready.json()) as { ready: boolean; workers: number };
  expect(body.ready).toBe(true);
  expect(body.workers).toBeGreaterThanOrEqual(1);

  const res = await page.goto('/');
  expect(res?.ok()).toBe(true);
  await expect(page).toHaveTitle(/Stratus/);
});
