import { type APIRequestContext, expect, test } from '@playwright/test';
import { adminPassword, login } from './support.ts';

/*
 * The admin console end to end: an admin sees the compute host with its placement
 * usage, disables its compute service with a reason and enables it again, forces it
 * down and unsets it (and sees another client's forced_down change live), finds a
 * server of another project in All instances (and opens its page), creates a private
 * flavor with an extra spec and access for that project, and puts the host into a host
 * aggregate with metadata and out again (then gives the aggregate a zone and deletes
 * it); a project member is shown the forbidden page on every /admin path. The other
 * project, its member and server are made through the real Keystone and Nova REST APIs;
 * the server uses a flavor no host can hold, so it goes to ERROR at once instead of
 * booting a guest.
 */

async function token(api: APIRequestContext, user: string, password: string, project: string): Promise<string> {
  const res = await api.post('/identity/v3/auth/tokens', {
    data: {
      auth: {
        identity: { methods: ['password'], password: { user: { name: user, domain: { id: 'default' }, password } } },
        scope: { project: { name: project, domain: { id: 'default' } } },
      },
    },
  });
  expect(res.status(), await res.text()).toBe(201);
  const t = res.headers()['x-subject-token'];
  if (!t) throw new Error('no X-Subject-Token');
  return t;
}

async function call<T>(api: APIRequestContext, tok: string, method: string, path: string, data?: unknown): Promise<T> {
  const res = await api.fetch(path, {
    method,
    headers: { 'X-Auth-Token': tok, 'OpenStack-API-Version': 'compute 2.37' },
    ...(data === undefined ? {} : { data }),
  });
  expect(res.ok(), `${method} ${path}: ${res.status()} ${await res.text()}`).toBe(true);
  return (res.status() === 204 ? {} : await res.json()) as T;
}

/** The id of a host's nova-compute service (os-services at 2.53). */
async function computeServiceId(api: APIRequestContext, tok: string, host: string): Promise<string> {
  const res = await api.get(`/compute/v2.1/os-services?binary=nova-compute&host=${encodeURIComponent(host)}`, {
    headers: { 'X-Auth-Token': tok, 'OpenStack-API-Version': 'compute 2.53' },
  });
  expect(res.status(), await res.text()).toBe(200);
  const id = ((await res.json()) as { services: Array<{ id: string }> }).services[0]?.id;
  if (!id) throw new Error(`no nova-compute service on ${host}`);
  return id;
}

/** PUT /os-services/{id} {"forced_down"} at 2.53, as `openstack compute service set --down|--up` sends it. */
async function setForcedDown(api: APIRequestContext, tok: string, serviceId: string, forcedDown: boolean) {
  const res = await api.fetch(`/compute/v2.1/os-services/${serviceId}`, {
    method: 'PUT',
    headers: { 'X-Auth-Token': tok, 'OpenStack-API-Version': 'compute 2.53' },
    data: { forced_down: forcedDown },
  });
  expect(res.status(), await res.text()).toBe(200);
}

test('admin: hypervisor usage, compute service disable/enable, another project’s instance; members are refused', async ({
  page,
  browser,
  request,
}) => {
  test.setTimeout(5 * 60_000);
  const suffix = Date.now().toString(36);
  const project = `e2e-admin-proj-${suffix}`;
  const user = `e2e-admin-user-${suffix}`;
  const password = `pw-${suffix}-Secret!`;
  const server = `e2e-other-vm-${suffix}`;
  const admin = await token(request, 'admin', adminPassword(), 'admin');
  const made: {
    projectId?: string;
    userId?: string;
    flavorId?: string;
    serverId?: string;
    disabled?: string;
    forcedDown?: string;
    aggregate?: string;
  } = {};
  try {
    // Another project with a member, and a server of theirs (through the REST APIs).
    made.projectId = (
      await call<{ project: { id: string } }>(request, admin, 'POST', '/identity/v3/projects', {
        project: { name: project, domain_id: 'default' },
      })
    ).project.id;
    made.userId = (
      await call<{ user: { id: string } }>(request, admin, 'POST', '/identity/v3/users', {
        user: { name: user, password, domain_id: 'default', default_project_id: made.projectId },
      })
    ).user.id;
    const roles = await call<{ roles: Array<{ id: string }> }>(request, admin, 'GET', '/identity/v3/roles?name=member');
    await call(
      request,
      admin,
      'PUT',
      `/identity/v3/projects/${made.projectId}/users/${made.userId}/roles/${roles.roles[0]?.id}`,
    );
    made.flavorId = (
      await call<{ flavor: { id: string } }>(request, admin, 'POST', '/compute/v2.1/flavors', {
        flavor: { name: `e2e-huge-${suffix}`, vcpus: 1, ram: 128, disk: 900000 },
      })
    ).flavor.id;
    const member = await token(request, user, password, project);
    const images = await call<{ images: Array<{ id: string; status: string }> }>(
      request,
      member,
      'GET',
      '/image/v2/images?status=active',
    );
    const imageId = images.images[0]?.id;
    expect(imageId, 'the stack has an active image').toBeTruthy();
    made.serverId = (
      await call<{ server: { id: string } }>(request, member, 'POST', '/compute/v2.1/servers', {
        server: { name: server, imageRef: imageId, flavorRef: made.flavorId, networks: 'none' },
      })
    ).server.id;

    await login(page, 'admin', adminPassword());

    // Hypervisors: the stack's compute host, up, with placement capacity and usage.
    await page.goto('/admin/hypervisors');
    const hv = page.getByTestId('hypervisor-row').first();
    await expect(hv).toBeVisible();
    const host = (await hv.getAttribute('data-host')) ?? '';
    const row = page
      .getByRole('row')
      .filter({ has: page.locator(`[data-testid="hypervisor-row"][data-host="${host}"]`) });
    await expect(row.getByTestId('host-state')).toHaveAttribute('data-state', 'up');
    const vcpu = row.getByTestId('usage-VCPU');
    expect(Number(await vcpu.getAttribute('data-capacity'))).toBeGreaterThan(0);
    await expect(row.getByTestId('usage-MEMORY_MB')).toContainText('/');
    await page.screenshot({ path: 'test-results/admin-hypervisors.png' });
    await row.getByRole('link').first().click();
    await expect(page.getByTestId('hypervisor-usage')).toBeVisible();
    await expect(page.getByRole('table', { name: 'Instances on this host' })).toBeVisible();

    // Compute services: disable with a reason (confirmed in a dialog), then enable again.
    await page.goto('/admin/services');
    const svc = page
      .getByRole('row')
      .filter({ has: page.locator(`[data-testid="service-row"][data-binary="nova-compute"][data-host="${host}"]`) });
    await expect(svc.getByTestId('service-status')).toHaveAttribute('data-status', 'enabled');
    await svc.getByRole('button', { name: `Disable compute service on ${host}` }).click();
    const dialog = page.getByRole('dialog').filter({ hasText: 'Disable compute service' });
    await dialog.getByLabel('Reason').fill(`e2e maintenance ${suffix}`);
    await dialog.getByRole('button', { name: 'Disable' }).click();
    made.disabled = host;
    await expect(dialog).toBeHidden();
    await expect(svc.getByTestId('service-status')).toHaveAttribute('data-status', 'disabled');
    await expect(svc.getByTestId('disabled-reason')).toHaveText(`e2e maintenance ${suffix}`);
    await page.screenshot({ path: 'test-results/admin-services-disabled.png' });
    await page.goto('/admin/hypervisors');
    await expect(row.getByTestId('service-status')).toHaveAttribute('data-status', 'disabled');
    await page.goto('/admin/services');
    await svc.getByRole('button', { name: `Enable compute service on ${host}` }).click();
    const enable = page.getByRole('dialog').filter({ hasText: 'Enable compute service' });
    await enable.getByRole('button', { name: 'Enable' }).click();
    await expect(enable).toBeHidden();
    await expect(svc.getByTestId('service-status')).toHaveAttribute('data-status', 'enabled');
    made.disabled = undefined;

    // Forced down (Nova's forced_down): from the page, confirmed in a dialog, then unset.
    const state = svc.getByTestId('host-state');
    await expect(state).toHaveAttribute('data-state', 'up');
    await svc.getByRole('button', { name: `Force down compute service on ${host}` }).click();
    const forceDialog = page.getByRole('dialog').filter({ hasText: 'Force compute service down' });
    await expect(forceDialog).toContainText(host);
    await forceDialog.getByRole('button', { name: 'Force down' }).click();
    made.forcedDown = host;
    await expect(forceDialog).toBeHidden();
    await expect(state).toHaveAttribute('data-state', 'down');
    await expect(svc).toContainText('forced down');
    await page.screenshot({ path: 'test-results/admin-services-forced-down.png' });
    await svc.getByRole('button', { name: `Unset forced down compute service on ${host}` }).click();
    const unsetDialog = page.getByRole('dialog').filter({ hasText: 'Unset forced down' });
    await unsetDialog.getByRole('button', { name: 'Unset forced down' }).click();
    await expect(unsetDialog).toBeHidden();
    await expect(state).toHaveAttribute('data-state', 'up');
    await expect(svc).not.toContainText('forced down');
    // Live: another client (as `openstack compute service set --down|--up` does) changes it;
    // the open page follows the service.updated events without a reload.
    const serviceId = await computeServiceId(request, admin, host);
    await setForcedDown(request, admin, serviceId, true);
    await expect(state).toHaveAttribute('data-state', 'down');
    await expect(svc).toContainText('forced down');
    await setForcedDown(request, admin, serviceId, false);
    made.forcedDown = undefined;
    await expect(state).toHaveAttribute('data-state', 'up');
    await expect(svc).not.toContainText('forced down');

    // All instances: the other project's server, with its project's name, filtered by name.
    await page.goto('/admin/instances');
    await page.getByLabel('Filter by name').fill(server);
    const vm = page.locator(`[data-testid="admin-server-row"][data-name="${server}"]`);
    await expect(vm).toBeVisible();
    await expect(vm).toHaveAttribute('data-project', project);
    await page.getByLabel('Filter by project').selectOption({ label: project });
    await expect(vm).toBeVisible();
    await page.screenshot({ path: 'test-results/admin-instances.png' });
    // Its instance page opens for the admin although it is another project's.
    await vm.getByRole('link', { name: server }).click();
    await expect(page.getByRole('heading', { name: server })).toBeVisible();

    // Flavors: a private flavor with an extra spec and access for the other project, in one dialog.
    const flavor = `e2e-private-${suffix}`;
    await page.goto('/admin/flavors');
    await page.getByRole('button', { name: 'Create flavor' }).click();
    const create = page.getByRole('dialog').filter({ hasText: 'Create flavor' });
    await create.getByLabel('Name').fill(flavor);
    await create.getByRole('button', { name: 'Add extra spec' }).click();
    await create.getByLabel('Extra spec 1 key').fill('hw:cpu_policy');
    await create.getByLabel('Extra spec 1 value').fill('dedicated');
    await create.getByLabel('Public (every project may use it)').uncheck();
    await create.getByLabel(project).check();
    await create.getByRole('button', { name: 'Create flavor' }).click();
    await expect(create).toBeHidden();
    const frow = page.getByRole('row').filter({ hasText: flavor });
    await expect(frow.getByTestId('flavor-specs')).toHaveText('hw:cpu_policy=dedicated');
    await frow.getByRole('button', { name: 'Actions' }).click();
    await page.getByRole('menuitem', { name: 'Project access' }).click();
    const access = page.getByRole('dialog').filter({ hasText: 'Project access to' });
    await expect(access.getByTestId('flavor-access')).toHaveText([project]);
    await access.getByRole('button', { name: 'Close' }).last().click();
    await frow.getByRole('button', { name: 'Actions' }).click();
    await page.getByRole('menuitem', { name: 'Delete' }).click();
    await page.getByRole('dialog').filter({ hasText: 'Delete flavor' }).getByRole('button', { name: 'Delete' }).click();
    await expect(frow).toHaveCount(0);

    // Host aggregates: create, add the compute host, set metadata and a zone, then undo it all.
    const aggregate = `e2e-agg-${suffix}`;
    await page.goto('/admin/aggregates');
    await page.getByRole('button', { name: 'Create aggregate' }).click();
    const aggDialog = page.getByRole('dialog').filter({ hasText: 'Create aggregate' });
    await aggDialog.getByLabel('Name').fill(aggregate);
    await aggDialog.getByRole('button', { name: 'Create aggregate' }).click();
    await expect(aggDialog).toBeHidden();
    made.aggregate = aggregate;
    const arow = page
      .getByRole('row')
      .filter({ has: page.locator(`[data-testid="aggregate-row"][data-name="${aggregate}"]`) });
    await arow.getByRole('button', { name: 'Actions' }).click();
    await page.getByRole('menuitem', { name: 'Manage hosts' }).click();
    const hostsDialog = page.getByRole('dialog').filter({ hasText: `Hosts of ${aggregate}` });
    await hostsDialog.getByLabel('Host to add').selectOption(host);
    await hostsDialog.getByRole('button', { name: 'Add' }).click();
    await expect(hostsDialog.getByTestId('aggregate-host')).toHaveText([host]);
    await hostsDialog.getByRole('button', { name: 'Close' }).last().click();
    await expect(arow.getByTestId('aggregate-hosts')).toHaveText(host);
    await arow.getByRole('button', { name: 'Actions' }).click();
    await page.getByRole('menuitem', { name: 'Edit metadata' }).click();
    const metaDialog = page.getByRole('dialog').filter({ hasText: `Metadata of ${aggregate}` });
    await metaDialog.getByLabel('Metadata 1 key').fill('ssd');
    await metaDialog.getByLabel('Metadata 1 value').fill('true');
    await metaDialog.getByRole('button', { name: 'Save' }).click();
    await expect(metaDialog.getByTestId('aggregate-metadata-item')).toHaveText(['ssd = true']);
    await metaDialog.getByRole('button', { name: 'Close' }).last().click();
    await expect(arow.getByTestId('aggregate-metadata')).toHaveText('ssd=true');
    await page.screenshot({ path: 'test-results/admin-aggregates.png' });
    // Out of the aggregate again, then a zone (no hosts, so nothing moves), then delete.
    await arow.getByRole('button', { name: 'Actions' }).click();
    await page.getByRole('menuitem', { name: 'Manage hosts' }).click();
    await hostsDialog.getByRole('button', { name: `Remove host ${host}` }).click();
    await expect(hostsDialog.getByTestId('aggregate-host')).toHaveCount(0);
    await hostsDialog.getByRole('button', { name: 'Close' }).last().click();
    await arow.getByRole('button', { name: 'Actions' }).click();
    await page.getByRole('menuitem', { name: 'Edit', exact: true }).click();
    const editDialog = page.getByRole('dialog').filter({ hasText: `Edit aggregate ${aggregate}` });
    await editDialog.getByLabel('Availability zone').fill(`e2e-az-${suffix}`);
    await editDialog.getByRole('button', { name: 'Save' }).click();
    await expect(editDialog).toBeHidden();
    await expect(arow).toContainText(`e2e-az-${suffix}`);
    await arow.getByRole('button', { name: 'Actions' }).click();
    await page.getByRole('menuitem', { name: 'Delete' }).click();
    await page
      .getByRole('dialog')
      .filter({ hasText: 'Delete aggregate' })
      .getByRole('button', { name: 'Delete' })
      .click();
    await expect(arow).toHaveCount(0);
    made.aggregate = undefined;

    // A project member gets the forbidden page on every admin path.
    const ctx = await browser.newContext();
    const other = await ctx.newPage();
    try {
      await login(other, user, password);
      for (const path of ['/admin', '/admin/hypervisors', '/admin/services', '/admin/instances', '/admin/flavors']) {
        await other.goto(path);
        await expect(other.getByRole('alert').getByRole('heading', { name: 'Not allowed' })).toBeVisible();
        await expect(other.getByRole('table')).toHaveCount(0);
      }
      await other.screenshot({ path: 'test-results/admin-forbidden.png' });
    } finally {
      await ctx.close();
    }
  } finally {
    // Leave the stack as found: a compute service this test disabled is enabled again.
    if (made.disabled) {
      const res = await request.get(
        `/compute/v2.1/os-services?binary=nova-compute&host=${encodeURIComponent(made.disabled)}`,
        { headers: { 'X-Auth-Token': admin, 'OpenStack-API-Version': 'compute 2.53' } },
      );
      const list = (await res.json()) as { services: Array<{ id: string }> };
      for (const s of list.services) {
        await request.fetch(`/compute/v2.1/os-services/${s.id}`, {
          method: 'PUT',
          headers: { 'X-Auth-Token': admin, 'OpenStack-API-Version': 'compute 2.53' },
          data: { status: 'enabled' },
        });
      }
    }
    // …and one it forced down is up again (later tests must still be able to schedule).
    if (made.forcedDown) {
      await setForcedDown(request, admin, await computeServiceId(request, admin, made.forcedDown), false);
    }
    if (made.aggregate) {
      // Only after a failure above: best effort through os-aggregates.
      try {
        const res = await request.get('/compute/v2.1/os-aggregates', { headers: { 'X-Auth-Token': admin } });
        const list = (await res.json()) as { aggregates: Array<{ id: number; name: string; hosts: string[] }> };
        for (const a of list.aggregates.filter((x) => x.name === made.aggregate)) {
          for (const h of a.hosts) {
            await request.post(`/compute/v2.1/os-aggregates/${a.id}/action`, {
              headers: { 'X-Auth-Token': admin },
              data: { remove_host: { host: h } },
            });
          }
          await request.delete(`/compute/v2.1/os-aggregates/${a.id}`, { headers: { 'X-Auth-Token': admin } });
        }
      } catch (err) {
        console.error(`could not remove aggregate ${made.aggregate}:`, err);
      }
    }
    if (made.serverId) {
      await request.delete(`/compute/v2.1/servers/${made.serverId}`, { headers: { 'X-Auth-Token': admin } });
      await expect
        .poll(
          async () =>
            (
              await request.get(`/compute/v2.1/servers/${made.serverId}`, { headers: { 'X-Auth-Token': admin } })
            ).status(),
          { timeout: 120_000 },
        )
        .toBe(404);
    }
    if (made.flavorId)
      await request.delete(`/compute/v2.1/flavors/${made.flavorId}`, { headers: { 'X-Auth-Token': admin } });
    if (made.userId) await request.delete(`/identity/v3/users/${made.userId}`, { headers: { 'X-Auth-Token': admin } });
    if (made.projectId)
      await request.delete(`/identity/v3/projects/${made.projectId}`, { headers: { 'X-Auth-Token': admin } });
  }
});
