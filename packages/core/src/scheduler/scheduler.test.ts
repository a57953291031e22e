import { describe, expect, it } from 'vitest';
import { parseConfig } from '../platform/config.ts';
import { allocationProblem, capacityOf } from '../placement/types.ts';
import { matchExtraSpec } from './extra-specs-ops.ts';
import {
  AggregateInstanceExtraSpecsFilter,
  AvailabilityZoneFilter,
  ComputeFilter,
  ImagePropertiesFilter,
  runFilters,
  ServerGroupAffinityFilter,
  ServerGroupAntiAffinityFilter,
} from './filters.ts';
import { buildHostStates, rankHosts, schedulerSettings } from './select.ts';
import type { FilterEnv, HostState, RequestSpec } from './types.ts';
import { normalize, weighHosts } from './weighers.ts';

const settings = schedulerSettings(parseConfig({}));
const now = new Date('2026-01-01T12:00:00Z');
const env: FilterEnv = { now, settings };

function host(name: string, over: Partial<HostState> = {}): HostState {
  return {
    providerId: `rp-${name}`,
    host: name,
    nodename: name,
    availabilityZone: 'nova',
    serviceDisabled: false,
    lastHeartbeat: new Date(now.getTime() - 5000),
    hypervisorType: 'qemu',
    supportedInstances: [{ arch: 'x86_64', hvType: 'qemu', vmMode: 'hvm' }],
    aggregates: [],
    resources: {
      VCPU: { capacity: 16, used: 0 },
      MEMORY_MB: { capacity: 8192, used: 0 },
      DISK_GB: { capacity: 100, used: 0 },
    },
    traits: [],
    ...over,
  };
}
function spec(over: Partial<RequestSpec> = {}): RequestSpec {
  return {
    projectId: 'p',
    userId: 'u',
    resources: { VCPU: 1, MEMORY_MB: 512, DISK_GB: 1 },
    flavor: { vcpus: 1, memoryMb: 512, diskGb: 1 },
    image: {},
    ...over,
  };
}

describe('capacity math', () => {
  it('capacity = floor((total - reserved) * allocation_ratio)', () => {
    expect(capacityOf({ total: 8, reserved: 0, allocationRatio: 4 })).toBe(32);
    expect(capacityOf({ total: 8192, reserved: 512, allocationRatio: 1.5 })).toBe(11520);
    expect(capacityOf({ total: 10, reserved: 3, allocationRatio: 0.5 })).toBe(3);
    expect(capacityOf({ total: 3, reserved: 0, allocationRatio: 1.1 })).toBe(3);
    expect(capacityOf({ total: 10, reserved: 0, allocationRatio: 0.7 })).toBe(7);
  });
  it('checks min_unit, max_unit, step_size and capacity', () => {
    const inv = { total: 10, reserved: 2, minUnit: 2, maxUnit: 6, stepSize: 2, allocationRatio: 1 };
    expect(allocationProblem(inv, 0, 4)).toBeUndefined();
    expect(allocationProblem(inv, 0, 1)).toMatch(/min_unit/);
    expect(allocationProblem(inv, 0, 8)).toMatch(/max_unit/);
    expect(allocationProblem(inv, 0, 3)).toMatch(/step_size/);
    expect(allocationProblem(inv, 6, 4)).toMatch(/exceed the capacity/);
    expect(allocationProblem(inv, 6, 2)).toBeUndefined();
  });
});

describe('extra specs operators (Nova extra_specs_ops)', () => {
  it.each([
    ['ssd', 'ssd', true],
    ['ssd', 'hdd', false],
    ['8', '= 4', true],
    ['2', '= 4', false],
    ['4', '== 4', true],
    ['4', '!= 4', false],
    ['4', '>= 4.0', true],
    ['5', '<= 4', false],
    ['fast ssd', '<in> ssd', true],
    ['a b c', '<all-in> a c', true],
    ['a b', '<all-in> a c', false],
    ['b', '<or> a <or> b <or> c', true],
    ['d', '<or> a <or> b', false],
    ['abc', 's== abc', true],
    ['abc', 's!= abc', false],
    ['b', 's> a', true],
    ['x', '>= 4', false],
  ])('%s matches %s → %s', (value, req, want) => {
    expect(matchExtraSpec(value, req)).toBe(want);
  });
  it('a missing value never matches an operator', () => expect(matchExtraSpec(undefined, '>= 1')).toBe(false));
});

describe('filters', () => {
  it('AvailabilityZoneFilter: zone, zone:host, or no zone', () => {
    expect(AvailabilityZoneFilter(host('a'), spec(), env)).toBe(true);
    expect(AvailabilityZoneFilter(host('a'), spec({ availabilityZone: 'nova' }), env)).toBe(true);
    expect(AvailabilityZoneFilter(host('a'), spec({ availabilityZone: 'az2' }), env)).toBe(false);
    expect(
      AvailabilityZoneFilter(host('a', { availabilityZone: 'az2' }), spec({ availabilityZone: 'az2:a' }), env),
    ).toBe(true);
  });
  it('ComputeFilter: enabled and heartbeat newer than serviceDownSeconds', () => {
    expect(ComputeFilter(host('a'), spec(), env)).toBe(true);
    expect(ComputeFilter(host('a', { serviceDisabled: true }), spec(), env)).toBe(false);
    expect(ComputeFilter(host('a', { lastHeartbeat: null }), spec(), env)).toBe(false);
    const stale = new Date(now.getTime() - (settings.serviceDownSeconds + 1) * 1000);
    expect(ComputeFilter(host('a', { lastHeartbeat: stale }), spec(), env)).toBe(false);
    const edge = new Date(now.getTime() - settings.serviceDownSeconds * 1000);
    expect(ComputeFilter(host('a', { lastHeartbeat: edge }), spec(), env)).toBe(true);
  });
  it('ImagePropertiesFilter: architecture, hypervisor type, vm mode and version', () => {
    const h = host('a', { hypervisorVersion: 7002000 });
    expect(ImagePropertiesFilter(h, spec(), env)).toBe(true);
    expect(ImagePropertiesFilter(h, spec({ image: { properties: { hw_architecture: 'x86_64' } } }), env)).toBe(true);
    expect(
      ImagePropertiesFilter(h, spec({ image: { properties: { hw_architecture: 'amd64', img_hv_type: 'QEMU' } } }), env),
    ).toBe(true);
    expect(ImagePropertiesFilter(h, spec({ image: { properties: { hw_architecture: 'aarch64' } } }), env)).toBe(false);
    expect(ImagePropertiesFilter(h, spec({ image: { properties: { img_hv_type: 'kvm' } } }), env)).toBe(false);
    expect(
      ImagePropertiesFilter(h, spec({ image: { properties: { hypervisor_type: 'qemu', hw_vm_mode: 'hvm' } } }), env),
    ).toBe(true);
    expect(
      ImagePropertiesFilter(
        host('b', { supportedInstances: [] }),
        spec({ image: { properties: { hw_architecture: 'x86_64' } } }),
        env,
      ),
    ).toBe(false);
    expect(ImagePropertiesFilter(h, spec({ image: { properties: { img_hv_requested_version: '>= 7.0' } } }), env)).toBe(
      true,
    );
    expect(ImagePropertiesFilter(h, spec({ image: { properties: { img_hv_requested_version: '>= 8.0' } } }), env)).toBe(
      false,
    );
  });
  it('ServerGroupAffinityFilter: first member anywhere, then the same host', () => {
    const g = (memberHosts: string[]) => spec({ serverGroup: { id: 'g', policy: 'affinity', memberHosts } });
    expect(ServerGroupAffinityFilter(host('a'), g([]), env)).toBe(true);
    expect(ServerGroupAffinityFilter(host('a'), g(['a']), env)).toBe(true);
    expect(ServerGroupAffinityFilter(host('b'), g(['a']), env)).toBe(false);
    expect(
      ServerGroupAffinityFilter(
        host('b'),
        spec({ serverGroup: { id: 'g', policy: 'anti-affinity', memberHosts: ['a'] } }),
        env,
      ),
    ).toBe(true);
  });
  it('ServerGroupAntiAffinityFilter: max_server_per_host', () => {
    const g = (memberHosts: string[], max?: number) =>
      spec({
        serverGroup: { id: 'g', policy: 'anti-affinity', memberHosts, ...(max ? { maxServerPerHost: max } : {}) },
      });
    expect(ServerGroupAntiAffinityFilter(host('a'), g([]), env)).toBe(true);
    expect(ServerGroupAntiAffinityFilter(host('a'), g(['a']), env)).toBe(false);
    expect(ServerGroupAntiAffinityFilter(host('b'), g(['a']), env)).toBe(true);
    expect(ServerGroupAntiAffinityFilter(host('a'), g(['a'], 2), env)).toBe(true);
    expect(ServerGroupAntiAffinityFilter(host('a'), g(['a', 'a'], 2), env)).toBe(false);
  });
  it('AggregateInstanceExtraSpecsFilter: scoped and unscoped keys against aggregate metadata', () => {
    const ssd = host('a', { aggregates: [{ metadata: { disk: 'ssd', cores: '32' } }, { metadata: { disk: 'nvme' } }] });
    const plain = host('b');
    const f = (extraSpecs: Record<string, string>) => spec({ flavor: { vcpus: 1, memoryMb: 512, extraSpecs } });
    expect(AggregateInstanceExtraSpecsFilter(plain, f({}), env)).toBe(true);
    expect(AggregateInstanceExtraSpecsFilter(plain, f({ 'hw:cpu_policy': 'dedicated' }), env)).toBe(true);
    expect(AggregateInstanceExtraSpecsFilter(ssd, f({ 'aggregate_instance_extra_specs:disk': 'ssd' }), env)).toBe(true);
    expect(AggregateInstanceExtraSpecsFilter(ssd, f({ 'aggregate_instance_extra_specs:disk': 'nvme' }), env)).toBe(
      true,
    );
    expect(AggregateInstanceExtraSpecsFilter(plain, f({ 'aggregate_instance_extra_specs:disk': 'ssd' }), env)).toBe(
      false,
    );
    expect(AggregateInstanceExtraSpecsFilter(ssd, f({ 'aggregate_instance_extra_specs:cores': '>= 16' }), env)).toBe(
      true,
    );
    expect(AggregateInstanceExtraSpecsFilter(ssd, f({ disk: 'hdd' }), env)).toBe(false);
  });
  it('runFilters applies the configured list in order and traces what each left', () => {
    const hosts = [host('a'), host('b', { serviceDisabled: true }), host('c', { availabilityZone: 'az2' })];
    const r = runFilters(hosts, spec({ availabilityZone: 'nova' }), env);
    expect(r.hosts.map((h) => h.host)).toEqual(['a']);
    expect(r.trace.slice(0, 2)).toEqual([
      { filter: 'AvailabilityZoneFilter', remaining: 2 },
      { filter: 'ComputeFilter', remaining: 1 },
    ]);
    expect(() =>
      runFilters(hosts, spec(), { now, settings: { ...settings, enabledFilters: ['NoSuchFilter'] } }),
    ).toThrow(/unknown filter/);
  });
});

describe('weighers', () => {
  const withFree = (name: string, vcpuUsed: number, ramUsed: number) =>
    host(name, { resources: { VCPU: { capacity: 16, used: vcpuUsed }, MEMORY_MB: { capacity: 8192, used: ramUsed } } });
  it('normalizes to 0..1 and all-equal to 0', () => {
    expect(normalize([2, 4, 6])).toEqual([0, 0.5, 1]);
    expect(normalize([3, 3])).toEqual([0, 0]);
  });
  it('positive multipliers spread (most free first), negative pack', () => {
    const hosts = [withFree('busy', 12, 6000), withFree('idle', 0, 0), withFree('half', 8, 4096)];
    expect(weighHosts(hosts, spec(), settings).map((w) => w.host.host)).toEqual(['idle', 'half', 'busy']);
    const pack = { ...settings, ramWeightMultiplier: -1, cpuWeightMultiplier: -1 };
    expect(weighHosts(hosts, spec(), pack).map((w) => w.host.host)).toEqual(['busy', 'half', 'idle']);
  });
  it('RAM and CPU multipliers weigh against each other', () => {
    const hosts = [withFree('ram-rich', 15, 0), withFree('cpu-rich', 0, 8000)];
    expect(
      weighHosts(hosts, spec(), { ...settings, ramWeightMultiplier: 2, cpuWeightMultiplier: 1 })[0]?.host.host,
    ).toBe('ram-rich');
    expect(
      weighHosts(hosts, spec(), { ...settings, ramWeightMultiplier: 1, cpuWeightMultiplier: 2 })[0]?.host.host,
    ).toBe('cpu-rich');
  });
  it('soft affinity prefers hosts with members, soft anti-affinity avoids them', () => {
    const hosts = [host('a'), host('b')];
    const soft = (policy: 'soft-affinity' | 'soft-anti-affinity') =>
      spec({ serverGroup: { id: 'g', policy, memberHosts: ['b'] } });
    expect(weighHosts(hosts, soft('soft-affinity'), settings)[0]?.host.host).toBe('b');
    expect(weighHosts(hosts, soft('soft-anti-affinity'), settings)[0]?.host.host).toBe('a');
  });
});

describe('host states and ranking', () => {
  it('joins candidates with compute info, zone from aggregates, skips unknown providers', () => {
    const states = buildHostStates(
      {
        allocationRequests: [],
        providerSummaries: {
          p1: {
            uuid: 'p1',
            name: 'n1',
            generation: 1,
            parentProviderUuid: null,
            rootProviderUuid: 'p1',
            resources: { VCPU: { capacity: 4, used: 1 } },
            traits: [],
            aggregates: [],
          },
          p2: {
            uuid: 'p2',
            name: 'n2',
            generation: 1,
            parentProviderUuid: null,
            rootProviderUuid: 'p2',
            resources: {},
            traits: [],
            aggregates: [],
          },
        },
      },
      new Map([
        [
          'p1',
          {
            host: 'h1',
            serviceDisabled: false,
            lastHeartbeat: now,
            hypervisorType: 'qemu',
            cpuArch: 'x86_64',
            aggregates: [{ metadata: { availability_zone: 'az9' } }],
          },
        ],
      ]),
      settings,
    );
    expect(states).toHaveLength(1);
    expect(states[0]).toMatchObject({
      host: 'h1',
      availabilityZone: 'az9',
      supportedInstances: [{ arch: 'x86_64', hvType: 'qemu', vmMode: 'hvm' }],
    });
  });
  it('ignoreHosts and forced hosts narrow the list before filters', () => {
    const hosts = [host('a'), host('b'), host('c')];
    expect(rankHosts(hosts, spec({ ignoreHosts: ['a'] }), settings, now).ranked.map((h) => h.host)).not.toContain('a');
    expect(rankHosts(hosts, spec({ availabilityZone: 'nova:c' }), settings, now).ranked.map((h) => h.host)).toEqual([
      'c',
    ]);
    expect(rankHosts(hosts, spec({ forceHosts: ['b'] }), settings, now).ranked.map((h) => h.host)).toEqual(['b']);
  });
});
