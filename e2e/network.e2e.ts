import { expect, type Page, test } from '@playwright/test';
import { login } from './support.ts';

/*
 * Networking end to end, through the dashboard only: create a network with its first
 * subnet and a second (IPv6, SLAAC) subnet, a router with the external gateway and an interface
 * on the subnet; the topology draws the network, the router and both links, and follows
 * a change made in another tab without a reload (socket.io events); its nodes click
 * through to their pages. Then a security-group rule from a preset shows in the rule
 * list and is deleted with confirmation. Everything created is deleted again.
 */

/** Opens a table row's "⋯" menu and picks an action. */
async function rowAction(page: Page, table: string, rowText: string, action: string) {
  const row = page.getByRole('table', { name: table }).getByRole('row').filter({ hasText: rowText });
  await row.getByRole('button', { name: 'Actions' }).click();
  await page.getByRole('menuitem', { name: action }).click();
}

/**
 * After a failure, removes what the test made through the Neutron API (with the
 * session's token), so a dev stack is not left with half a topology. No-op when the UI
 * already deleted everything.
 */
async function cleanup(page: Page, names: { router?: string; network?: string; group?: string }) {
  const session = (await (await page.request.get('/api/auth/session')).json()) as { tokenId?: string };
  if (!session.tokenId) return;
  const headers = { 'X-Auth-Token': session.tokenId };
  const list = async (kind: string, name: string) => {
    const res = await page.request.get(`/network/v2.0/${kind}?name=${encodeURIComponent(name)}`, { headers });
    const body = (await res.json()) as Record<string, { id: string }[]>;
    return body[kind] ?? [];
  };
  if (names.router)
    for (const r of await list('routers', names.router)) {
      const ports = (await (await page.request.get(`/network/v2.0/ports?device_id=${r.id}`, { headers })).json()) as {
        ports: { id: string; device_owner: string }[];
      };
      for (const p of ports.ports.filter((x) => x.device_owner === 'network:router_interface'))
        await page.request.put(`/network/v2.0/routers/${r.id}/remove_router_interface`, {
          headers,
          data: { port_id: p.id },
        });
      await page.request.delete(`/network/v2.0/routers/${r.id}`, { headers });
    }
  if (names.network)
    for (const n of await list('networks', names.network))
      await page.request.delete(`/network/v2.0/networks/${n.id}`, { headers });
  if (names.group)
    for (const g of await list('security-groups', names.group))
      await page.request.delete(`/network/v2.0/security-groups/${g.id}`, { headers });
}

async function confirm(page: Page, title: string, button = 'Delete') {
  const dialog = page.getByRole('dialog').filter({ hasText: title });
  await dialog.getByRole('button', { name: button, exact: true }).click();
  await expect(dialog).toBeHidden();
}

test('network, subnet and router from the dashboard; the live topology shows them', async ({ page }) => {
  test.setTimeout(10 * 60_000);
  const suffix = Date.now().toString(36);
  const net = `e2e-net-${suffix}`;
  const rtr = `e2e-router-${suffix}`;
  const octet = 100 + (Date.now() % 100);
  const cidr = `10.${octet}.7.0/24`;
  await login(page);
  try {
    // Network with its first subnet, in one dialog.
    await page.goto('/project/networks');
    await page.getByRole('button', { name: 'Create network' }).click();
    let dialog = page.getByRole('dialog').filter({ hasText: 'Create network' });
    await dialog.getByLabel('Network name', { exact: true }).fill(net);
    await dialog.getByLabel('Subnet name').fill(`${net}-v4`);
    await dialog.getByLabel('Network address (CIDR)').fill(cidr);
    await dialog.getByLabel('DNS servers').fill(`10.${octet}.7.53`);
    await dialog.getByRole('button', { name: 'Create network' }).click();
    await expect(dialog).toBeHidden();
    await expect(page).toHaveURL(/\/project\/networks\/[0-9a-f-]{36}$/);
    const networkUrl = page.url();
    await expect(page.locator(`[data-testid="subnet-row"][data-cidr="${cidr}"]`)).toBeVisible();

    // A second subnet, IPv6, from the network's page; a bad one is refused in words.
    await page.getByRole('button', { name: 'Create subnet' }).click();
    dialog = page.getByRole('dialog').filter({ hasText: 'Create subnet' });
    await dialog.getByLabel('Network address (CIDR)').fill(`10.${octet}.7.128/25`);
    await dialog.getByRole('button', { name: 'Create subnet' }).click();
    await expect(dialog.getByRole('alert')).toContainText('overlaps');
    await dialog.getByLabel('IP version').selectOption('6');
    // IPv6 address mode (Horizon's choices): SLAAC by default, which hides the pools and
    // keeps DHCP on; stateful DHCPv6 uses pools again. SLAAC needs a /64, in core's words.
    const mode = dialog.getByLabel('IPv6 address mode');
    await expect(mode).toHaveValue('slaac');
    await expect(dialog.getByLabel('Allocation pools')).toHaveCount(0);
    await expect(dialog.getByLabel('Enable DHCP')).toHaveCount(0);
    await mode.selectOption('dhcpv6-stateful');
    await expect(dialog.getByLabel('Allocation pools')).toBeVisible();
    await mode.selectOption('slaac');
    await dialog.getByLabel('Network address (CIDR)').fill(`fd00:${octet}:7::/80`);
    await dialog.getByRole('button', { name: 'Create subnet' }).click();
    await expect(dialog.getByRole('alert')).toContainText('requires the prefix to be /64');
    await dialog.getByLabel('Network address (CIDR)').fill(`fd00:${octet}:7::/64`);
    await dialog.getByLabel('Subnet name').fill(`${net}-v6`);
    await dialog.getByRole('button', { name: 'Create subnet' }).click();
    await expect(dialog).toBeHidden();
    await expect(page.locator(`[data-testid="subnet-row"][data-cidr="fd00:${octet}:7::/64"]`)).toBeVisible();
    await expect(
      page
        .getByRole('table', { name: 'Subnets' })
        .getByRole('row')
        .filter({ hasText: `fd00:${octet}:7::/64` })
        .getByTestId('subnet-ipv6-mode'),
    ).toHaveText('SLAAC');

    // The list shows it with its subnets.
    await page.goto('/project/networks');
    await expect(page.locator(`[data-testid="network-row"][data-name="${net}"]`)).toBeVisible();

    // Router: external gateway at creation, then an interface on the IPv4 subnet.
    await page.goto('/project/routers');
    await page.getByRole('button', { name: 'Create router' }).click();
    dialog = page.getByRole('dialog').filter({ hasText: 'Create router' });
    await dialog.getByLabel('Router name').fill(rtr);
    await expect(dialog.getByLabel('External network')).not.toHaveValue('');
    await dialog.getByRole('button', { name: 'Create router' }).click();
    await expect(dialog).toBeHidden();
    await expect(page).toHaveURL(/\/project\/routers\/[0-9a-f-]{36}$/);
    const routerUrl = page.url();
    await expect(page.getByTestId('router-gateway')).toContainText('public');
    await page.getByRole('button', { name: 'Add interface' }).click();
    dialog = page.getByRole('dialog').filter({ hasText: 'Add interface' });
    const option = dialog.getByRole('option').filter({ hasText: cidr });
    await expect(option).toHaveCount(1);
    await dialog.getByLabel('Subnet').selectOption({ label: (await option.textContent()) ?? '' });
    await dialog.getByRole('button', { name: 'Add interface' }).click();
    await expect(dialog).toBeHidden();
    await expect(page.locator(`[data-testid="router-interface"][data-cidr="${cidr}"]`)).toBeVisible();
    await expect(page.getByRole('table', { name: 'Interfaces' })).toContainText(`10.${octet}.7.1`);

    // The topology: the network, the router, its links to both networks.
    await page.goto('/project/network-topology');
    await expect(page.locator('svg[aria-labelledby="topology-title"]')).toBeVisible();
    await expect(page.locator(`[data-testid="topo-network"][data-name="${net}"]`)).toBeVisible();
    await expect(page.locator('[data-testid="topo-network"][data-name="public"]')).toBeVisible();
    await expect(page.locator(`[data-testid="topo-router"][data-name="${rtr}"]`)).toBeVisible();
    const toNet = page.locator(`[data-testid="topo-link"][data-device="${rtr}"][data-network="${net}"]`);
    await expect(toNet).toHaveAttribute('data-ips', `10.${octet}.7.1`);
    await expect(page.locator(`[data-testid="topo-link"][data-device="${rtr}"][data-network="public"]`)).toHaveCount(1);

    // Live: another tab removes the interface; this page drops the link without a reload.
    const other = await page.context().newPage();
    await other.goto(routerUrl);
    await rowAction(other, 'Interfaces', cidr, 'Remove');
    await confirm(other, 'Remove interface', 'Remove');
    await expect(other.getByRole('table', { name: 'Interfaces' })).toContainText('No interfaces');
    await expect(toNet).toHaveCount(0);
    // …and the interface added back appears the same way.
    await other.getByRole('button', { name: 'Add interface' }).click();
    dialog = other.getByRole('dialog').filter({ hasText: 'Add interface' });
    const again = dialog.getByRole('option').filter({ hasText: cidr });
    await dialog.getByLabel('Subnet').selectOption({ label: (await again.textContent()) ?? '' });
    await dialog.getByRole('button', { name: 'Add interface' }).click();
    await expect(dialog).toBeHidden();
    await expect(toNet).toHaveCount(1);
    await other.close();

    // Click-through: the router node opens the router, the network bar the network.
    await page.locator(`[data-testid="topo-router"][data-name="${rtr}"]`).click();
    await expect(page).toHaveURL(routerUrl);
    await page.goBack();
    // (the bar itself: the link's box also spans the empty corner between label and bar)
    await page.locator(`[data-testid="topo-network"][data-name="${net}"] rect`).first().click();
    await expect(page).toHaveURL(networkUrl);

    // Clean up through the dashboard: interface, gateway, router, network.
    await page.goto(routerUrl);
    await rowAction(page, 'Interfaces', cidr, 'Remove');
    await confirm(page, 'Remove interface', 'Remove');
    await page.getByRole('button', { name: 'Clear gateway' }).click();
    await confirm(page, 'Clear gateway', 'Clear gateway');
    await expect(page.getByRole('button', { name: 'Set gateway' })).toBeVisible();
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await confirm(page, 'Delete router');
    await expect(page).toHaveURL(/\/project\/routers$/);
    await page.goto(networkUrl);
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await confirm(page, 'Delete network');
    await expect(page).toHaveURL(/\/project\/networks$/);
    await expect(page.locator(`[data-testid="network-row"][data-name="${net}"]`)).toHaveCount(0);
  } finally {
    await cleanup(page, { router: rtr, network: net });
  }
});

test('a security-group rule added from a preset shows in the rule list', async ({ page }) => {
  test.setTimeout(5 * 60_000);
  const group = `e2e-sg-${Date.now().toString(36)}`;
  await login(page);
  try {
    await page.goto('/project/security-groups');
    await page.getByRole('button', { name: 'Create security group' }).click();
    let dialog = page.getByRole('dialog').filter({ hasText: 'Create security group' });
    await dialog.getByLabel('Name').fill(group);
    await dialog.getByRole('button', { name: 'Create security group' }).click();
    await expect(dialog).toBeHidden();
    await expect(page).toHaveURL(/\/project\/security-groups\/[0-9a-f-]{36}$/);
    const ingress = page.getByRole('table', { name: 'Ingress rules' });
    await expect(ingress).toContainText('No ingress rules');

    // SSH preset: one TCP 22 rule from anywhere.
    await page.getByRole('button', { name: 'Add rule' }).click();
    dialog = page.getByRole('dialog').filter({ hasText: 'Add rule' });
    await dialog.getByLabel('Rule', { exact: true }).selectOption('ssh');
    await dialog.getByRole('button', { name: 'Add rule' }).click();
    await expect(dialog).toBeHidden();
    await expect(ingress.locator('[data-testid="rule-row"][data-protocol="tcp"][data-port="22"]')).toBeVisible();
    await expect(ingress).toContainText('0.0.0.0/0');

    // DNS preset: two rules (UDP and TCP 53) from a CIDR; a bad CIDR is refused in the form.
    await page.getByRole('button', { name: 'Add rule' }).click();
    dialog = page.getByRole('dialog').filter({ hasText: 'Add rule' });
    await dialog.getByLabel('Rule', { exact: true }).selectOption('dns');
    await dialog.getByLabel('Remote CIDR').fill('10.0.0.0/33');
    await dialog.getByRole('button', { name: 'Add rule' }).click();
    await expect(dialog.getByRole('alert')).toContainText('10.0.0.0/33');
    await dialog.getByLabel('Remote CIDR').fill('10.0.0.0/8');
    await dialog.getByRole('button', { name: 'Add rule' }).click();
    await expect(dialog).toBeHidden();
    await expect(ingress.locator('[data-testid="rule-row"][data-protocol="udp"][data-port="53"]')).toBeVisible();
    await expect(ingress.locator('[data-testid="rule-row"][data-protocol="tcp"][data-port="53"]')).toBeVisible();

    // Delete the SSH rule, with confirmation.
    await rowAction(page, 'Ingress rules', '22', 'Delete rule');
    await confirm(page, 'Delete rule');
    await expect(ingress.locator('[data-testid="rule-row"][data-port="22"]')).toHaveCount(0);

    // And the group.
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await confirm(page, 'Delete security group');
    await expect(page).toHaveURL(/\/project\/security-groups$/);
    await expect(page.locator(`[data-testid="secgroup-row"][data-name="${group}"]`)).toHaveCount(0);
  } finally {
    await cleanup(page, { group });
  }
});
