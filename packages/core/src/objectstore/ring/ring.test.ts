import { describe, expect, it } from 'vitest';
import {
  assignedCounts,
  countMoves,
  decodeAssignment,
  emptyRing,
  encodeAssignment,
  rebalance,
  type RingData,
  type RingDevice,
  UNASSIGNED,
  wantedParts,
} from './builder.ts';
import { Ring } from './ring.ts';

const dev = (id: number, zone = 1, weight = 100): RingDevice => ({
  id,
  host: '127.0.0.1',
  port: 6300 + Math.floor(id / 4),
  device: `d${id}`,
  zone,
  weight,
});
const build = (devices: RingDevice[], partPower = 10, replicas = 3): RingData =>
  rebalance({ ...emptyRing({ partPower, replicas }), devices }).ring;

function maxDeviation(ring: RingData): number {
  const wanted = wantedParts(ring);
  const counts = assignedCounts(ring);
  let worst = 0;
  for (const [id, w] of wanted) worst = Math.max(worst, Math.abs((counts.get(id) ?? 0) - w));
  return worst;
}

function partDevices(ring: RingData, p: number): number[] {
  return ring.assignment.map((row) => row[p] as number);
}

describe('ring builder', () => {
  it('assigns every replica of every partition to distinct devices, balanced by weight', () => {
    const ring = build([dev(0), dev(1), dev(2), dev(3, 1, 150), dev(4, 1, 50)]);
    const parts = 2 ** ring.partPower;
    for (let p = 0; p < parts; p++) {
      const ids = partDevices(ring, p);
      expect(ids).not.toContain(UNASSIGNED);
      expect(new Set(ids).size).toBe(3);
    }
    // Within one partition-replica of each device's share (weights 100,100,100,150,50).
    expect(maxDeviation(ring)).toBeLessThanOrEqual(1);
    const counts = assignedCounts(ring);
    expect(Math.abs((counts.get(3) ?? 0) - 1.5 * (counts.get(0) ?? 0))).toBeLessThan(3);
    expect(counts.get(4)).toBeLessThan((counts.get(0) ?? 0) / 2 + 3);
  });

  it('puts the replicas of a partition in distinct zones when there are enough zones', () => {
    const devices = [dev(0, 1), dev(1, 1), dev(2, 2), dev(3, 2), dev(4, 3), dev(5, 3)];
    const ring = build(devices);
    const zoneOf = new Map(devices.map((d) => [d.id, d.zone]));
    for (let p = 0; p < 2 ** ring.partPower; p++) {
      expect(new Set(partDevices(ring, p).map((id) => zoneOf.get(id))).size).toBe(3);
    }
    expect(maxDeviation(ring)).toBeLessThanOrEqual(1);
  });

  it('spreads over as many zones as exist when there are fewer zones than replicas', () => {
    const devices = [dev(0, 1), dev(1, 1), dev(2, 2), dev(3, 2)];
    const ring = build(devices);
    const zoneOf = new Map(devices.map((d) => [d.id, d.zone]));
    for (let p = 0; p < 2 ** ring.partPower; p++) {
      expect(new Set(partDevices(ring, p).map((id) => zoneOf.get(id))).size).toBe(2);
    }
  });

  it('adding a device moves about its fair share only', () => {
    const before = build([dev(0), dev(1), dev(2), dev(3)]);
    const after = rebalance({ ...before, devices: [...before.devices, dev(4)] });
    const slots = 2 ** before.partPower * before.replicas;
    const fair = slots / 5; // the new device's share of all partition-replicas
    expect(after.moved).toBe(countMoves(before, after.ring));
    expect(after.moved).toBeGreaterThanOrEqual(Math.floor(fair) - 5);
    expect(after.moved).toBeLessThanOrEqual(Math.ceil(fair) + 5);
    // Every move went to the new device.
    for (let r = 0; r < before.replicas; r++) {
      for (let p = 0; p < 2 ** before.partPower; p++) {
        const a = (before.assignment[r] as Uint16Array)[p];
        const b = (after.ring.assignment[r] as Uint16Array)[p];
        if (a !== b) expect(b).toBe(4);
      }
    }
    expect(maxDeviation(after.ring)).toBeLessThanOrEqual(1);
    // At most one replica of a partition moved.
    for (let p = 0; p < 2 ** before.partPower; p++) {
      const changed = before.assignment.filter(
        (row, r) => row[p] !== (after.ring.assignment[r] as Uint16Array)[p],
      ).length;
      expect(changed).toBeLessThanOrEqual(1);
    }
  });

  it('removing a device moves only the partitions it held', () => {
    const before = build([dev(0), dev(1), dev(2), dev(3), dev(4)]);
    const held = assignedCounts(before).get(2) ?? 0;
    const after = rebalance({ ...before, devices: before.devices.filter((d) => d.id !== 2) });
    expect(after.moved).toBe(held);
    for (let r = 0; r < before.replicas; r++) {
      for (let p = 0; p < 2 ** before.partPower; p++) {
        const a = (before.assignment[r] as Uint16Array)[p];
        const b = (after.ring.assignment[r] as Uint16Array)[p];
        if (a !== b) expect(a).toBe(2);
      }
    }
    for (let p = 0; p < 2 ** before.partPower; p++) expect(new Set(partDevices(after.ring, p)).size).toBe(3);
    expect(maxDeviation(after.ring)).toBeLessThanOrEqual(1);
  });

  it('a rebalance of a balanced ring moves nothing; draining by weight 0 empties the device', () => {
    const ring = build([dev(0), dev(1), dev(2), dev(3)]);
    expect(rebalance(ring).moved).toBe(0);
    const drained = rebalance({ ...ring, devices: ring.devices.map((d) => (d.id === 1 ? { ...d, weight: 0 } : d)) });
    expect(assignedCounts(drained.ring).get(1)).toBe(0);
  });

  it('minPartHours holds back balance moves of partitions moved recently', () => {
    const t0 = 1_700_000_000;
    const first = rebalance(
      { ...emptyRing({ partPower: 8, replicas: 3, minPartHours: 1 }), devices: [dev(0), dev(1), dev(2)] },
      t0,
    ).ring;
    const soon = rebalance({ ...first, devices: [...first.devices, dev(3)] }, t0 + 60);
    expect(soon.moved).toBe(0);
    const later = rebalance({ ...first, devices: [...first.devices, dev(3)] }, t0 + 3601);
    expect(later.moved).toBeGreaterThan(0);
  });

  it('round-trips the stored assignment', () => {
    const ring = build([dev(0), dev(1), dev(2)], 6);
    const back = decodeAssignment(encodeAssignment(ring), 6, 3);
    expect(back.map((a) => Array.from(a))).toEqual(ring.assignment.map((a) => Array.from(a)));
  });
});

describe('ring lookups', () => {
  it('maps a path to a partition and gives primaries and handoffs without overlap', () => {
    const data = build([dev(0, 1), dev(1, 2), dev(2, 3), dev(3, 1), dev(4, 2)], 8);
    const ring = new Ring(data, { prefix: 'p', suffix: 's' }, 1);
    const { hash, partition } = ring.locate({ account: 'AUTH_x', container: 'c', object: 'o/1' });
    expect(hash).toMatch(/^[0-9a-f]{32}$/);
    expect(partition).toBeGreaterThanOrEqual(0);
    expect(partition).toBeLessThan(256);
    expect(ring.partitionOf(hash)).toBe(partition);
    const prim = ring.primaries(partition);
    const hand = ring.handoffs(partition);
    expect(prim).toHaveLength(3);
    expect(hand).toHaveLength(2);
    expect(prim.filter((d) => hand.includes(d))).toHaveLength(0);
    // Another secret puts the same name elsewhere (most of the time).
    const other = new Ring(data, { prefix: 'q', suffix: 's' }, 1).locate({
      account: 'AUTH_x',
      container: 'c',
      object: 'o/1',
    });
    expect(other.hash).not.toBe(hash);
  });
});
