import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { newRequestId, withRequestContext } from '@stratus/core';
import { adminContext, projectWithMember, setupIdentityTest, unique } from '@stratus/core/identity/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb } from '../../../../../../test/helpers.ts';
import { networkMount } from './index.ts';

let server: Server;
let base: string;
let tokenA: string;
let tokenB: string;
let adminToken: string;

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Json = Record<string, any>;

async function call(method: string, path: string, opts: { token?: string; body?: unknown; raw?: string } = {}) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(opts.token ? { 'x-auth-token': opts.token } : {}),
      ...(opts.body !== undefined || opts.raw !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: opts.raw ?? (opts.body !== undefined ? JSON.stringify(opts.body) : undefined),
  });
  const text = await res.text();
  const json: Json = text ? (JSON.parse(text) as Json) : {};
  return { status: res.status, json };
}

beforeAll(async () => {
  await setupIdentityTest(testDb().url);
  const admin = await adminContext();
  adminToken = admin.tokenId;
  tokenA = (await projectWithMember(admin)).auth.tokenId;
  tokenB = (await projectWithMember(admin)).auth.tokenId;
  server = createServer((req, res) => {
    withRequestContext({ requestId: newRequestId() }, () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      void networkMount.handler(req, res, url);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});

const x = Math.floor(Math.random() * 200) + 20;

describe('Neutron REST', () => {
  it('serves discovery documents', async () => {
    const v = await call('GET', '/network/');
    expect(v.json.versions[0].id).toBe('v2.0');
    const r = await call('GET', '/network/v2.0/');
    expect(r.json.resources.map((x: Json) => x.collection)).toContain('networks');
    const e = await call('GET', '/network/v2.0/extensions', { token: tokenA });
    for (const alias of [
      'router',
      'external-net',
      'security-group',
      'quotas',
      'binding',
      'allowed-address-pairs',
      'port-security',
      'availability_zone',
    ])
      expect(e.json.extensions.map((x: Json) => x.alias)).toContain(alias);
    expect((await call('GET', '/network/v2.0/extensions/router', { token: tokenA })).json.extension.alias).toBe(
      'router',
    );
    expect((await call('GET', '/network/v2.0/extensions/nope', { token: tokenA })).status).toBe(404);
  });

  it('runs the CLI flow: network, subnet, router, gateway, floating IP, rule', async () => {
    const ext = await call('POST', '/network/v2.0/networks', {
      token: adminToken,
      body: { network: { name: unique('pub'), 'router:external': true } },
    });
    expect(ext.status).toBe(201);
    const extSub = await call('POST', '/network/v2.0/subnets', {
      token: adminToken,
      body: {
        subnet: {
          network_id: ext.json.network.id,
          cidr: `172.${16 + (x % 15)}.${x}.0/24`,
          ip_version: 4,
          enable_dhcp: false,
        },
      },
    });
    expect(extSub.status).toBe(201);

    const n = await call('POST', '/network/v2.0/networks', {
      token: tokenA,
      body: { network: { name: 'n1', admin_state_up: true } },
    });
    expect(n.status).toBe(201);
    expect(n.json.network).toMatchObject({ name: 'n1', status: 'ACTIVE', shared: false, 'router:external': false });
    expect(n.json.network.tenant_id).toBe(n.json.network.project_id);
    const s = await call('POST', '/network/v2.0/subnets', {
      token: tokenA,
      body: { subnet: { name: 's1', network_id: n.json.network.id, cidr: `10.${x}.7.0/24`, ip_version: 4 } },
    });
    expect(s.status).toBe(201);
    expect(s.json.subnet).toMatchObject({
      gateway_ip: `10.${x}.7.1`,
      allocation_pools: [{ start: `10.${x}.7.2`, end: `10.${x}.7.254` }],
      enable_dhcp: true,
    });

    // find(): GET by name → 404, then ?name=
    expect((await call('GET', '/network/v2.0/networks/n1', { token: tokenA })).status).toBe(404);
    const byName = await call('GET', '/network/v2.0/networks?name=n1', { token: tokenA });
    expect(byName.json.networks).toHaveLength(1);
    const fields = await call('GET', `/network/v2.0/networks?id=${n.json.network.id}&fields=id&fields=name`, {
      token: tokenA,
    });
    expect(fields.json.networks).toEqual([{ id: n.json.network.id, name: 'n1' }]);

    const r = await call('POST', '/network/v2.0/routers', {
      token: tokenA,
      body: { router: { name: 'r1', admin_state_up: true } },
    });
    expect(r.status).toBe(201);
    const add = await call('PUT', `/network/v2.0/routers/${r.json.router.id}/add_router_interface`, {
      token: tokenA,
      body: { subnet_id: s.json.subnet.id },
    });
    expect(add.status).toBe(200);
    expect(add.json).toMatchObject({
      id: r.json.router.id,
      subnet_id: s.json.subnet.id,
      network_id: n.json.network.id,
    });
    const gw = await call('PUT', `/network/v2.0/routers/${r.json.router.id}`, {
      token: tokenA,
      body: { router: { external_gateway_info: { network_id: ext.json.network.id } } },
    });
    expect(gw.status).toBe(200);
    expect(gw.json.router.external_gateway_info.network_id).toBe(ext.json.network.id);

    const fip = await call('POST', '/network/v2.0/floatingips', {
      token: tokenA,
      body: { floatingip: { floating_network_id: ext.json.network.id } },
    });
    expect(fip.status).toBe(201);
    expect(fip.json.floatingip.floating_ip_address).toMatch(/^172\./);

    const port = await call('POST', '/network/v2.0/ports', {
      token: tokenA,
      body: { port: { network_id: n.json.network.id, device_id: 'srv-1' } },
    });
    expect(port.status).toBe(201);
    const byDevice = await call('GET', '/network/v2.0/ports?device_id=srv-1', { token: tokenA });
    expect(byDevice.json.ports.map((p: Json) => p.id)).toEqual([port.json.port.id]);
    const assoc = await call('PUT', `/network/v2.0/floatingips/${fip.json.floatingip.id}`, {
      token: tokenA,
      body: { floatingip: { port_id: port.json.port.id } },
    });
    expect(assoc.json.floatingip.fixed_ip_address).toBe(port.json.port.fixed_ips[0].ip_address);

    const sgs = await call('GET', '/network/v2.0/security-groups?name=default', { token: tokenA });
    expect(sgs.json.security_groups).toHaveLength(1);
    const rule = await call('POST', '/network/v2.0/security-group-rules', {
      token: tokenA,
      body: {
        security_group_rule: {
          security_group_id: sgs.json.security_groups[0].id,
          direction: 'ingress',
          ethertype: 'IPv4',
          protocol: 'tcp',
          port_range_min: 22,
          port_range_max: 22,
          remote_ip_prefix: '0.0.0.0/0',
        },
      },
    });
    expect(rule.status).toBe(201);

    // Project B sees none of it.
    expect((await call('GET', `/network/v2.0/networks/${n.json.network.id}`, { token: tokenB })).status).toBe(404);
    expect((await call('GET', '/network/v2.0/ports', { token: tokenB })).json.ports).toEqual([]);
    expect((await call('GET', '/network/v2.0/routers', { token: tokenB })).json.routers).toEqual([]);

    // Deletes in the CLI's order.
    expect(
      (await call('DELETE', `/network/v2.0/floatingips/${fip.json.floatingip.id}`, { token: tokenA })).status,
    ).toBe(204);
    expect((await call('DELETE', `/network/v2.0/ports/${port.json.port.id}`, { token: tokenA })).status).toBe(204);
    expect((await call('DELETE', `/network/v2.0/routers/${r.json.router.id}`, { token: tokenA })).status).toBe(409);
    expect(
      (
        await call('PUT', `/network/v2.0/routers/${r.json.router.id}/remove_router_interface`, {
          token: tokenA,
          body: { subnet_id: s.json.subnet.id },
        })
      ).status,
    ).toBe(200);
    expect((await call('DELETE', `/network/v2.0/routers/${r.json.router.id}`, { token: tokenA })).status).toBe(204);
    expect((await call('DELETE', `/network/v2.0/subnets/${s.json.subnet.id}`, { token: tokenA })).status).toBe(204);
    expect((await call('DELETE', `/network/v2.0/networks/${n.json.network.id}`, { token: tokenA })).status).toBe(204);
  });

  it('answers bad input with Neutron-style 4xx errors, never 500', async () => {
    const noAuth = await call('GET', '/network/v2.0/networks');
    expect(noAuth.status).toBe(401);
    expect(noAuth.json.NeutronError).toBeDefined();
    const cases: [string, string, unknown, number][] = [
      ['POST', '/network/v2.0/networks', { nope: {} }, 400],
      ['POST', '/network/v2.0/networks', { network: { admin_state_up: 'maybe' } }, 400],
      ['POST', '/network/v2.0/subnets', { subnet: { network_id: 'nope', cidr: '10.0.0.0/24' } }, 404],
      ['POST', '/network/v2.0/ports', { port: {} }, 400],
      ['POST', '/network/v2.0/security-group-rules', { security_group_rule: { direction: 'sideways' } }, 400],
      ['POST', '/network/v2.0/floatingips', { floatingip: { floating_network_id: 'x' } }, 404],
      ['PUT', '/network/v2.0/routers/nope/add_router_interface', { subnet_id: 'x' }, 404],
      ['DELETE', '/network/v2.0/networks/00000000-0000-4000-8000-000000000000', undefined, 404],
      ['PATCH', '/network/v2.0/networks', {}, 405],
      ['GET', '/network/v2.0/nothing', undefined, 404],
    ];
    for (const [method, path, body, status] of cases) {
      const r = await call(method, path, { token: tokenA, body });
      expect({ path, status: r.status }).toEqual({ path, status });
      expect(typeof r.json.NeutronError?.type).toBe('string');
      expect(typeof r.json.NeutronError?.message).toBe('string');
    }
    const malformed = await call('POST', '/network/v2.0/networks', { token: tokenA, raw: '{not json' });
    expect(malformed.status).toBe(400);

    const n = await call('POST', '/network/v2.0/networks', { token: tokenA, body: { network: { name: unique('e') } } });
    await call('POST', '/network/v2.0/subnets', {
      token: tokenA,
      body: { subnet: { network_id: n.json.network.id, cidr: `10.${x}.9.0/24`, ip_version: 4 } },
    });
    const p1 = await call('POST', '/network/v2.0/ports', {
      token: tokenA,
      body: { port: { network_id: n.json.network.id, fixed_ips: [{ ip_address: `10.${x}.9.9` }] } },
    });
    expect(p1.status).toBe(201);
    const dup = await call('POST', '/network/v2.0/ports', {
      token: tokenA,
      body: { port: { network_id: n.json.network.id, fixed_ips: [{ ip_address: `10.${x}.9.9` }] } },
    });
    expect(dup.status).toBe(409);
    expect(dup.json.NeutronError.type).toBe('IpAddressAlreadyAllocated');
    const bad = await call('POST', '/network/v2.0/subnets', {
      token: tokenA,
      body: { subnet: { network_id: n.json.network.id, cidr: '10.0.0.0/40', ip_version: 4 } },
    });
    expect(bad.status).toBe(400);
    const ext = await call('POST', '/network/v2.0/networks', {
      token: tokenA,
      body: { network: { name: 'x', 'router:external': true } },
    });
    expect(ext.status).toBe(403);
  });

  it('serves quotas and availability zones', async () => {
    const q = await call('GET', '/network/v2.0/quotas/whatever', { token: adminToken });
    expect(q.json.quota.network).toBe(100);
    const az = await call('GET', '/network/v2.0/availability_zones', { token: tokenA });
    expect(az.json.availability_zones[0].name).toBe('nova');
  });
});
