import { describe, expect, it } from 'vitest';
import type { Topology } from './common';
import { layout } from './layout';
import { formatPools, parsePools, parseRoutes } from './text';

/* The topology layout and the subnet form's text parsing: pure functions, no browser. */

const at = '2026-01-01T00:00:00.000Z';
const net = (id: string, name: string, external = false) => ({
  id,
  name,
  description: '',
  projectId: 'p',
  own: !external,
  status: 'ACTIVE',
  adminStateUp: true,
  shared: false,
  external,
  mtu: 1450,
  portSecurityEnabled: true,
  subnetIds: [],
  createdAt: at,
});
const port = (id: string, networkId: string, owner: string, deviceId: string, ip: string) => ({
  id,
  name: '',
  networkId,
  projectId: 'p',
  macAddress: 'fa:16:3e:00:00:01',
  status: 'ACTIVE',
  adminStateUp: true,
  deviceOwner: owner,
  deviceId,
  fixedIps: [{ subnetId: `s-${networkId}`, ip }],
  securityGroupIds: [],
  portSecurityEnabled: true,
  createdAt: at,
});
const router = (id: string, name: string, gateway: string | null, ports: string[]) => ({
  id,
  name,
  description: '',
  projectId: 'p',
  status: 'ACTIVE',
  adminStateUp: true,
  gateway: gateway
    ? { networkId: gateway, enableSnat: true, externalFixedIps: [{ subnetId: 's', ip: '172.24.4.9' }] }
    : null,
  interfaces: ports.map((portId) => ({ portId, subnetId: 's' })),
  routes: [],
  createdAt: at,
});

describe('topology layout', () => {
  const t: Topology = {
    // Deliberately not external-first: the layout puts external networks left.
    networks: [net('n1', 'net1'), net('n2', 'net2'), net('ext', 'public', true), net('n3', 'net3')],
    subnets: [],
    routers: [router('r1', 'r1', 'ext', ['rp1', 'rp2']), router('r2', 'lonely', null, [])],
    ports: [
      port('rp1', 'n1', 'network:router_interface', 'r1', '10.0.1.1'),
      port('rp2', 'n2', 'network:router_interface', 'r1', '10.0.2.1'),
      port('vp1', 'n1', 'compute:nova', 'vm1', '10.0.1.5'),
      port('vp2', 'n3', 'compute:nova', 'vm2', '10.0.3.5'),
      port('vp3', 'n3', 'compute:nova', 'ghost', '10.0.3.6'),
    ],
    floatingIps: [
      {
        id: 'f',
        floatingIp: '172.24.4.20',
        floatingNetworkId: 'ext',
        portId: 'vp1',
        fixedIp: '10.0.1.5',
        routerId: 'r1',
        status: 'ACTIVE',
        description: '',
        createdAt: at,
      },
    ],
  };
  const g = layout(t, [
    { id: 'vm1', name: 'web', status: 'ACTIVE' },
    { id: 'vm2', name: 'db', status: 'BUILD' },
  ]);
  const dev = (name: string) => {
    const d = g.devices.find((x) => x.name === name);
    if (!d) throw new Error(`no device ${name}`);
    return d;
  };

  it('puts external networks first and joins each device to every network it has a port on', () => {
    expect(g.nets.map((n) => n.name)).toEqual(['public', 'net1', 'net2', 'net3']);
    expect(dev('r1').links).toEqual([
      { net: 0, ips: ['172.24.4.9'] },
      { net: 1, ips: ['10.0.1.1'] },
      { net: 2, ips: ['10.0.2.1'] },
    ]);
    expect(dev('r1').col).toBe(0);
    expect(dev('web').links).toEqual([{ net: 1, ips: ['10.0.1.5'] }]);
    expect(dev('web').extra).toBe('floating 172.24.4.20');
    expect(dev('web').href).toBe('/project/instances/vm1');
    expect(dev('r1').href).toBe('/project/routers/r1');
  });

  it('packs devices with disjoint spans into one row and keeps overlapping ones apart', () => {
    // r1 spans columns 0–2; web (1) overlaps it; db (3) does not.
    expect(dev('web').row).not.toBe(dev('r1').row);
    expect(dev('db').row).toBe(dev('r1').row);
    // A server the compute list does not know (another project's, on a shared network) still shows, by id.
    expect(dev('ghost').links).toEqual([{ net: 3, ips: ['10.0.3.6'] }]);
    // A router with no ports goes to a column after the networks, without links.
    expect(dev('lonely').links).toEqual([]);
    expect(dev('lonely').col).toBe(4);
    expect(g.width).toBeGreaterThan(g.nets[3]?.x ?? 0);
  });
});

describe('subnet form text', () => {
  it('reads pools and routes in the forms people type', () => {
    expect(parsePools('10.0.0.10,10.0.0.20\n 10.0.0.30 - 10.0.0.40 \n\n10.0.0.50 10.0.0.60')).toEqual([
      { start: '10.0.0.10', end: '10.0.0.20' },
      { start: '10.0.0.30', end: '10.0.0.40' },
      { start: '10.0.0.50', end: '10.0.0.60' },
    ]);
    expect(parsePools('fd00::10,fd00::ff')).toEqual([{ start: 'fd00::10', end: 'fd00::ff' }]);
    expect(parseRoutes('192.168.0.0/24,10.0.0.5\n0.0.0.0/0 10.0.0.1')).toEqual([
      { destination: '192.168.0.0/24', nexthop: '10.0.0.5' },
      { destination: '0.0.0.0/0', nexthop: '10.0.0.1' },
    ]);
    expect(parsePools(formatPools([{ start: 'a', end: 'b' }]))).toEqual([{ start: 'a', end: 'b' }]);
  });
});
