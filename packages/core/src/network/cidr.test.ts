import { describe, expect, it } from 'vitest';
import {
  checkPools,
  cidrsOverlap,
  defaultGateway,
  defaultPools,
  firstFree,
  formatCidr,
  normalizeIp,
  parseCidr,
  parseIp,
  poolSize,
} from './cidr.ts';
import { normalizeRule, RuleInput } from './secgroups.ts';
import { validateSubnet } from './subnets.ts';

const cidr = (s: string) => {
  const c = parseCidr(s);
  if (!c) throw new Error(`bad ${s}`);
  return c;
};

describe('address arithmetic', () => {
  it('parses and formats IPv4 and IPv6', () => {
    expect(normalizeIp('10.0.0.1')).toBe('10.0.0.1');
    expect(parseIp('256.0.0.1')).toBeNull();
    expect(parseIp('01.0.0.1')).toBeNull();
    expect(normalizeIp('2001:0db8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1');
    expect(normalizeIp('::')).toBe('::');
    expect(normalizeIp('fe80::1:0:0:1')).toBe('fe80::1:0:0:1');
    expect(normalizeIp('::ffff:1.2.3.4')).toBe('::ffff:102:304');
    expect(parseIp('1::2::3')).toBeNull();
    expect(parseIp('hello')).toBeNull();
  });

  it('normalizes CIDRs and detects overlap', () => {
    expect(formatCidr(cidr('10.0.0.7/24'))).toBe('10.0.0.0/24');
    expect(parseCidr('10.0.0.0/33')).toBeNull();
    expect(cidrsOverlap(cidr('10.0.0.0/24'), cidr('10.0.0.128/25'))).toBe(true);
    expect(cidrsOverlap(cidr('10.0.0.0/24'), cidr('10.0.1.0/24'))).toBe(false);
    expect(cidrsOverlap(cidr('10.0.0.0/8'), cidr('10.200.0.0/16'))).toBe(true);
    expect(cidrsOverlap(cidr('10.0.0.0/8'), cidr('fd00::/8'))).toBe(false);
    expect(cidrsOverlap(cidr('fd00::/64'), cidr('fd00::8000/120'))).toBe(true);
  });

  it('computes Neutron default gateway and pools', () => {
    const c = cidr('192.168.1.0/24');
    expect(defaultGateway(c)).toBe('192.168.1.1');
    expect(defaultPools(c, '192.168.1.1')).toEqual([{ start: '192.168.1.2', end: '192.168.1.254' }]);
    expect(defaultPools(c, '192.168.1.100')).toEqual([
      { start: '192.168.1.1', end: '192.168.1.99' },
      { start: '192.168.1.101', end: '192.168.1.254' },
    ]);
    expect(defaultPools(c, null)).toEqual([{ start: '192.168.1.1', end: '192.168.1.254' }]);
    expect(poolSize(defaultPools(cidr('10.0.0.0/26'), '10.0.0.1'))).toBe(61n);
    expect(defaultPools(cidr('fd00::/64'), 'fd00::1')[0]).toEqual({
      start: 'fd00::2',
      end: 'fd00::ffff:ffff:ffff:ffff',
    });
  });

  it('validates pools', () => {
    const c = cidr('10.0.0.0/24');
    expect(checkPools(c, [{ start: '10.0.0.10', end: '10.0.0.20' }], '10.0.0.1')).toBeNull();
    expect(checkPools(c, [{ start: '10.0.0.10', end: '10.0.1.20' }], null)?.kind).toBe('outside');
    expect(checkPools(c, [{ start: '10.0.0.20', end: '10.0.0.10' }], null)?.kind).toBe('reversed');
    expect(
      checkPools(
        c,
        [
          { start: '10.0.0.10', end: '10.0.0.20' },
          { start: '10.0.0.15', end: '10.0.0.30' },
        ],
        null,
      )?.kind,
    ).toBe('overlap');
    expect(checkPools(c, [{ start: '10.0.0.1', end: '10.0.0.20' }], '10.0.0.1')?.kind).toBe('gateway');
    expect(checkPools(c, [{ start: 'x', end: '10.0.0.20' }], null)?.kind).toBe('invalid');
  });

  it('finds the lowest free address across pools', () => {
    const pools = [
      { start: '10.0.0.2', end: '10.0.0.4' },
      { start: '10.0.0.10', end: '10.0.0.10' },
    ];
    expect(firstFree(pools, new Set())).toBe('10.0.0.2');
    expect(firstFree(pools, new Set(['10.0.0.2', '10.0.0.3']))).toBe('10.0.0.4');
    expect(firstFree(pools, new Set(['10.0.0.2', '10.0.0.3', '10.0.0.4']))).toBe('10.0.0.10');
    expect(firstFree(pools, new Set(['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.10']))).toBeNull();
  });
});

describe('subnet validation', () => {
  it('defaults gateway and pools and rejects bad input', () => {
    const v = validateSubnet({ cidr: '10.1.0.0/24', ipVersion: 4, gatewayIp: undefined, dns: ['8.8.8.8'], routes: [] });
    expect(v.gatewayIp).toBe('10.1.0.1');
    expect(v.pools).toEqual([{ start: '10.1.0.2', end: '10.1.0.254' }]);
    expect(() =>
      validateSubnet({ cidr: '10.1.0.0/24', ipVersion: 6, gatewayIp: undefined, dns: [], routes: [] }),
    ).toThrow(/not compatible/);
    expect(() => validateSubnet({ cidr: 'nope', ipVersion: 4, gatewayIp: undefined, dns: [], routes: [] })).toThrow(
      /not a valid/,
    );
    expect(() =>
      validateSubnet({ cidr: '10.1.0.0/24', ipVersion: 4, gatewayIp: '10.2.0.1', dns: [], routes: [] }),
    ).toThrow(/conflicts/);
    expect(() =>
      validateSubnet({
        cidr: '10.1.0.0/24',
        ipVersion: 4,
        gatewayIp: '10.1.0.5',
        pools: [{ start: '10.1.0.2', end: '10.1.0.9' }],
        dns: [],
        routes: [],
      }),
    ).toThrow(expect.objectContaining({ code: 'Conflict' }));
    expect(
      validateSubnet({ cidr: '10.1.0.0/24', ipVersion: 4, gatewayIp: null, dns: [], routes: [] }).gatewayIp,
    ).toBeNull();
  });
});

describe('security group rule validation', () => {
  const rule = (r: Record<string, unknown>) =>
    normalizeRule(RuleInput.parse({ security_group_id: 'x', direction: 'ingress', ...r }));
  it('accepts what the CLI sends', () => {
    expect(
      rule({ protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_ip_prefix: '0.0.0.0/0' }),
    ).toMatchObject({
      protocol: 'tcp',
      portRangeMin: 22,
      portRangeMax: 22,
      remoteIpPrefix: '0.0.0.0/0',
    });
    expect(rule({ protocol: 'icmp', port_range_min: 8 })).toMatchObject({ protocol: 'icmp', portRangeMin: 8 });
    expect(rule({ protocol: '6' }).protocol).toBe('6');
    expect(rule({ remote_ip_prefix: '10.0.0.5/24' }).remoteIpPrefix).toBe('10.0.0.0/24');
  });
  it('rejects what Neutron rejects', () => {
    expect(() => rule({ protocol: 'tcp', port_range_min: 30, port_range_max: 20 })).toThrow(/port_range_min/);
    expect(() => rule({ protocol: 'tcp', port_range_min: 0, port_range_max: 20 })).toThrow(/Invalid value/);
    expect(() => rule({ port_range_min: 22, port_range_max: 22 })).toThrow(/protocol/);
    expect(() => rule({ protocol: 'bogus' })).toThrow(/not supported/);
    expect(() => rule({ protocol: '300' })).toThrow(/not supported/);
    expect(() => rule({ remote_ip_prefix: '::/0' })).toThrow(/Conflicting/);
    expect(() => rule({ remote_ip_prefix: '0.0.0.0/0', remote_group_id: 'g' })).toThrow(/Only/);
    expect(() => rule({ protocol: 'icmp', port_range_min: 300 })).toThrow(/ICMP/);
  });
});
