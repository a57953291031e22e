import { describe, expect, it } from 'vitest';
import { placeNetworks, TunnelIp } from './tunnels.ts';

const endpoints = new Map([
  ['net-1', '198.18.0.1'],
  ['cmp-a', '198.18.0.2'],
  ['cmp-b', '198.18.0.3'],
]);
const services = [
  { host: 'net-1', roles: ['network', 'compute', 'scheduler'] },
  { host: 'cmp-a', roles: ['compute'] },
  { host: 'cmp-b', roles: ['compute'] },
];
const networks = [
  { id: 'n1', vxlan: true },
  { id: 'n2', vxlan: true },
  { id: 'flat', vxlan: false },
];
const ports = [
  { networkId: 'n1', mac: 'fa:16:3e:00:00:01', deviceOwner: 'network:dhcp', bindingHost: '' },
  { networkId: 'n1', mac: 'fa:16:3e:00:00:02', deviceOwner: 'compute:nova', bindingHost: 'cmp-a' },
  { networkId: 'n1', mac: 'fa:16:3e:00:00:03', deviceOwner: 'compute:nova', bindingHost: 'cmp-b' },
  { networkId: 'n2', mac: 'fa:16:3e:00:00:04', deviceOwner: 'compute:nova', bindingHost: 'cmp-a' },
  // Unbound and plain ports have no host.
  { networkId: 'n2', mac: 'fa:16:3e:00:00:05', deviceOwner: '', bindingHost: '' },
];

describe('placeNetworks (l2population)', () => {
  it('a network node has every network; its peers are the hosts with ports there', () => {
    const p = placeNetworks({ host: 'net-1', services, endpoints, networks, ports });
    expect(p.networkNode).toBe(true);
    expect([...p.networks].sort()).toEqual(['flat', 'n1', 'n2']);
    expect(p.peers.get('n1')).toEqual(['198.18.0.2', '198.18.0.3']);
    expect(p.peers.get('n2')).toEqual(['198.18.0.2']);
    expect(p.peers.has('flat')).toBe(false);
    expect(p.remoteMacs.get('n1')).toEqual([
      { mac: 'fa:16:3e:00:00:02', dst: '198.18.0.2' },
      { mac: 'fa:16:3e:00:00:03', dst: '198.18.0.3' },
    ]);
  });

  it('a compute host has only the networks of its ports; peers include the network node (DHCP)', () => {
    const a = placeNetworks({ host: 'cmp-a', services, endpoints, networks, ports });
    expect(a.networkNode).toBe(false);
    expect([...a.networks].sort()).toEqual(['n1', 'n2']);
    expect(a.peers.get('n1')).toEqual(['198.18.0.1', '198.18.0.3']);
    // n2 has no DHCP or router port: nobody else has it.
    expect(a.peers.get('n2')).toEqual([]);
    expect(a.remoteMacs.get('n1')?.map((m) => m.mac)).toEqual(['fa:16:3e:00:00:01', 'fa:16:3e:00:00:03']);
    const b = placeNetworks({ host: 'cmp-b', services, endpoints, networks, ports });
    expect([...b.networks]).toEqual(['n1']);
  });

  it('an unbound port drops its host from the peers; hosts without an endpoint are never peers', () => {
    const unbound = ports.map((p) => (p.bindingHost === 'cmp-b' ? { ...p, bindingHost: '' } : p));
    expect(placeNetworks({ host: 'net-1', services, endpoints, networks, ports: unbound }).peers.get('n1')).toEqual([
      '198.18.0.2',
    ]);
    const noB = new Map([...endpoints].filter(([h]) => h !== 'cmp-b'));
    const p = placeNetworks({ host: 'net-1', services, endpoints: noB, networks, ports });
    expect(p.peers.get('n1')).toEqual(['198.18.0.2']);
    expect(p.remoteMacs.get('n1')?.map((m) => m.mac)).toEqual(['fa:16:3e:00:00:02']);
  });

  it('without a network-role worker every agent host (and an unregistered caller) is a network node', () => {
    const computeOnly = services.map((s) => ({ ...s, roles: ['compute'] }));
    const p = placeNetworks({ host: 'cmp-a', services: computeOnly, endpoints, networks, ports });
    expect(p.networkNode).toBe(true);
    expect([...p.networks].sort()).toEqual(['flat', 'n1', 'n2']);
    expect(placeNetworks({ host: 'elsewhere', services: [], endpoints: new Map(), networks, ports }).networkNode).toBe(
      true,
    );
    // A compute-only host with an endpoint is not a network node once some worker has the role…
    const withElsewhere = new Map([...endpoints, ['elsewhere', '198.18.0.9']]);
    expect(placeNetworks({ host: 'elsewhere', services, endpoints: withElsewhere, networks, ports }).networkNode).toBe(
      false,
    );
    // …but one without an endpoint has no tunnels and serves everything itself, as before.
    const alone = placeNetworks({ host: 'elsewhere', services, endpoints, networks, ports });
    expect(alone.networkNode).toBe(true);
    expect([...alone.networks].sort()).toEqual(['flat', 'n1', 'n2']);
  });

  it('validates endpoint addresses', () => {
    expect(TunnelIp.parse(' 198.18.0.9 ')).toBe('198.18.0.9');
    expect(TunnelIp.safeParse('198.18.0.0/30').success).toBe(false);
    expect(TunnelIp.safeParse('host; rm -rf /').success).toBe(false);
  });
});
