import { createHash } from 'node:crypto';
import type { ObjectPath } from '../backend.ts';
import { type HashSecret, hashPath, partitionOfHash } from '../hash.ts';
import { UNASSIGNED, type RingData, type RingDevice } from './builder.ts';

/**
 * A loaded ring: where an object's replicas live (primaries) and which devices take them
 * when a primary cannot (handoffs). Immutable; a new version is a new Ring.
 */
export class Ring {
  readonly parts: number;
  private readonly byId: Map<number, RingDevice>;
  constructor(
    readonly data: RingData,
    readonly secret: HashSecret,
    readonly version: number,
  ) {
    this.parts = 2 ** data.partPower;
    this.byId = new Map(data.devices.map((d) => [d.id, d]));
  }

  get replicas(): number {
    return this.data.replicas;
  }

  get devices(): readonly RingDevice[] {
    return this.data.devices;
  }

  device(id: number): RingDevice | undefined {
    return this.byId.get(id);
  }

  /** The hash and partition of an object. */
  locate(path: ObjectPath): { hash: string; partition: number } {
    const hash = hashPath(this.secret, path);
    return { hash, partition: partitionOfHash(hash, this.data.partPower) };
  }

  partitionOf(hash: string): number {
    return partitionOfHash(hash, this.data.partPower);
  }

  /** The devices holding a partition's replicas, in replica order, without duplicates. */
  primaries(partition: number): RingDevice[] {
    const out: RingDevice[] = [];
    for (const row of this.data.assignment) {
      const id = row[partition];
      if (id === undefined || id === UNASSIGNED) continue;
      const d = this.byId.get(id);
      if (d && !out.includes(d)) out.push(d);
    }
    return out;
  }

  isPrimary(partition: number, deviceId: number): boolean {
    return this.data.assignment.some((row) => row[partition] === deviceId);
  }

  /**
   * The other devices in the order they take a partition's writes when primaries fail:
   * first those in zones holding no primary, then the rest; within each group a fixed
   * pseudo-random order per partition, so one failed device's load spreads.
   */
  handoffs(partition: number): RingDevice[] {
    const prim = this.primaries(partition);
    const primZones = new Set(prim.map((d) => d.zone));
    const rank = (d: RingDevice) => createHash('md5').update(`${partition}:${d.id}`).digest().readUInt32BE(0);
    return this.data.devices
      .filter((d) => d.weight > 0 && !prim.includes(d))
      .map((d) => ({ d, zoneUsed: primZones.has(d.zone) ? 1 : 0, r: rank(d) }))
      .sort((a, b) => a.zoneUsed - b.zoneUsed || a.r - b.r)
      .map((x) => x.d);
  }
}

/** Where the current ring comes from: a fixed one (tests) or PostgreSQL (ring/store.ts). */
export interface RingSource {
  /** The ring in force; throws StratusError Unavailable when none is built yet. */
  current(): Ring;
}

export function staticRingSource(ring: Ring): RingSource & { set(r: Ring): void } {
  let cur = ring;
  return {
    current: () => cur,
    set(r: Ring) {
      cur = r;
    },
  };
}
