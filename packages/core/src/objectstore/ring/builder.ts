/*
 * The ring builder: which devices hold each partition's replicas. Swift's ideas, kept small:
 * every device wants a share of the partition-replicas proportional to its weight; replicas of
 * one partition go to distinct devices and, when there are enough zones, distinct zones; a
 * rebalance first frees only what must move (replicas on removed or zero-weight devices, two
 * replicas on one device or one zone when another zone is free, then the excess of overweight
 * devices) and hands the freed replicas to the hungriest devices. Parts moved within
 * `minPartHours` are not moved again for balance, and a balance move takes at most one replica
 * of a partition per rebalance, so two replicas of every object stay where they were while the
 * replicator copies the third.
 */

export const UNASSIGNED = 0xffff;
export const MAX_PART_POWER = 20;
export const MAX_DEVICE_ID = UNASSIGNED - 1;

export interface RingDevice {
  /** Small integer, stable for the device's life in the ring. */
  id: number;
  /** Address the object server answers on. */
  host: string;
  port: number;
  /** Folder name of the device under the server's devices (e.g. d1). */
  device: string;
  zone: number;
  /** Relative capacity; 0 drains the device. */
  weight: number;
}

export interface RingData {
  partPower: number;
  replicas: number;
  minPartHours: number;
  devices: RingDevice[];
  /** assignment[replica][partition] = device id, UNASSIGNED when unassigned. */
  assignment: Uint16Array[];
  /** Per partition: unix seconds of its last move (0 = never). */
  lastMoved: Uint32Array;
}

export interface RebalanceResult {
  ring: RingData;
  /** Partition-replicas given a new device (0 when nothing changed). */
  moved: number;
  /** Largest |assigned − wanted| / wanted over weighted devices, in percent. */
  balance: number;
}

export function emptyRing(opts: { partPower: number; replicas: number; minPartHours?: number }): RingData {
  if (!Number.isInteger(opts.partPower) || opts.partPower < 0 || opts.partPower > MAX_PART_POWER) {
    throw new Error(`partition power must be an integer in 0..${MAX_PART_POWER}`);
  }
  if (!Number.isInteger(opts.replicas) || opts.replicas < 1 || opts.replicas > 8)
    throw new Error('replicas must be an integer in 1..8');
  const parts = 2 ** opts.partPower;
  return {
    partPower: opts.partPower,
    replicas: opts.replicas,
    minPartHours: opts.minPartHours ?? 0,
    devices: [],
    assignment: Array.from({ length: opts.replicas }, () => new Uint16Array(parts).fill(UNASSIGNED)),
    lastMoved: new Uint32Array(parts),
  };
}

function cloneRing(r: RingData): RingData {
  return {
    ...r,
    devices: r.devices.map((d) => ({ ...d })),
    assignment: r.assignment.map((a) => Uint16Array.from(a)),
    lastMoved: Uint32Array.from(r.lastMoved),
  };
}

/** How many partition-replicas each weighted device should hold. */
export function wantedParts(ring: Pick<RingData, 'partPower' | 'replicas' | 'devices'>): Map<number, number> {
  const active = ring.devices.filter((d) => d.weight > 0);
  const total = active.reduce((s, d) => s + d.weight, 0);
  const slots = 2 ** ring.partPower * ring.replicas;
  return new Map(active.map((d) => [d.id, total > 0 ? (slots * d.weight) / total : 0]));
}

export function assignedCounts(ring: RingData): Map<number, number> {
  const counts = new Map<number, number>(ring.devices.map((d) => [d.id, 0]));
  for (const row of ring.assignment)
    for (const id of row) if (id !== UNASSIGNED) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

export function ringBalance(ring: RingData): number {
  const wanted = wantedParts(ring);
  const counts = assignedCounts(ring);
  let worst = 0;
  for (const [id, w] of wanted) {
    if (w <= 0) continue;
    worst = Math.max(worst, (Math.abs((counts.get(id) ?? 0) - w) / w) * 100);
  }
  return worst;
}

/** Deterministic pseudo-random order of 0..n-1 (xorshift seeded), so moves spread over the keyspace. */
function shuffled(n: number, seed: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  let s = seed >>> 0 || 0x9e3779b9;
  for (let i = n - 1; i > 0; i--) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    const j = s % (i + 1);
    const t = out[i] ?? 0;
    out[i] = out[j] ?? 0;
    out[j] = t;
  }
  return out;
}

export function validateDevices(devices: RingDevice[]): void {
  const ids = new Set<number>();
  const names = new Set<string>();
  for (const d of devices) {
    if (!Number.isInteger(d.id) || d.id < 0 || d.id > MAX_DEVICE_ID) throw new Error(`device id ${d.id} out of range`);
    if (ids.has(d.id)) throw new Error(`device id ${d.id} used twice`);
    ids.add(d.id);
    const key = `${d.host}:${d.port}/${d.device}`;
    if (names.has(key)) throw new Error(`device ${key} listed twice`);
    names.add(key);
    if (!(d.weight >= 0) || !Number.isFinite(d.weight)) throw new Error(`device ${key}: weight must be ≥ 0`);
  }
}

/**
 * Reassigns as few partition-replicas as possible so that every device holds about its
 * weight's share. `now` is unix seconds (for minPartHours). Pure: returns a new ring.
 */
export function rebalance(input: RingData, now: number = Math.floor(Date.now() / 1000), seed = 1): RebalanceResult {
  validateDevices(input.devices);
  const ring = cloneRing(input);
  const parts = 2 ** ring.partPower;
  const R = ring.replicas;
  const active = ring.devices.filter((d) => d.weight > 0);
  if (active.length === 0) throw new Error('the ring has no device with a weight above 0');
  const byId = new Map(ring.devices.map((d) => [d.id, d]));
  const activeIds = new Set(active.map((d) => d.id));
  const wanted = wantedParts(ring);
  const counts = new Map<number, number>(active.map((d) => [d.id, 0]));
  for (const row of ring.assignment)
    for (const id of row) if (activeIds.has(id)) counts.set(id, (counts.get(id) ?? 0) + 1);
  const zones = new Set(active.map((d) => d.zone));
  const wantZones = Math.min(R, zones.size);
  const canMove = (p: number) => ring.minPartHours <= 0 || now - (ring.lastMoved[p] ?? 0) >= ring.minPartHours * 3600;
  const movedNow = new Uint8Array(parts);
  const get = (r: number, p: number): number => ring.assignment[r]?.[p] ?? UNASSIGNED;
  const set = (r: number, p: number, id: number): void => {
    const row = ring.assignment[r];
    if (row) row[p] = id;
  };
  const unassigned: Array<[replica: number, part: number]> = [];
  const unassign = (r: number, p: number) => {
    const id = get(r, p);
    if (activeIds.has(id)) counts.set(id, (counts.get(id) ?? 0) - 1);
    set(r, p, UNASSIGNED);
    unassigned.push([r, p]);
    movedNow[p] = 1;
  };

  // 1. Forced: replicas on devices that are gone or drained, and two replicas on one device.
  for (let p = 0; p < parts; p++) {
    const seen = new Set<number>();
    for (let r = 0; r < R; r++) {
      const id = get(r, p);
      if (id === UNASSIGNED) {
        unassigned.push([r, p]);
        movedNow[p] = 1;
      } else if (!activeIds.has(id) || (seen.has(id) && active.length >= R)) unassign(r, p);
      else seen.add(id);
    }
  }

  // 2. Dispersion: a partition crowding one zone while another zone is free gives one replica up.
  if (wantZones > 1) {
    for (let p = 0; p < parts; p++) {
      if (movedNow[p] || !canMove(p)) continue;
      const zoneOf: number[] = [];
      for (let r = 0; r < R; r++) zoneOf.push(byId.get(get(r, p))?.zone ?? -1);
      if (new Set(zoneOf).size >= wantZones) continue;
      // Give up the replica (in a crowded zone) on the most overloaded device.
      let best = -1;
      let bestLoad = Number.NEGATIVE_INFINITY;
      for (let r = 0; r < R; r++) {
        if (zoneOf.filter((z) => z === zoneOf[r]).length < 2) continue;
        const id = get(r, p);
        const load = (counts.get(id) ?? 0) - (wanted.get(id) ?? 0);
        if (load > bestLoad) {
          bestLoad = load;
          best = r;
        }
      }
      if (best >= 0) unassign(best, p);
    }
  }

  // 3. Balance: overweight devices shed their excess, at most one replica of a partition each.
  const order = shuffled(parts, seed + now);
  for (const d of active) {
    const target = Math.ceil((wanted.get(d.id) ?? 0) - 1e-9);
    let excess = (counts.get(d.id) ?? 0) - target;
    for (let i = 0; i < parts && excess > 0; i++) {
      const p = order[i] ?? 0;
      if (movedNow[p] || !canMove(p)) continue;
      for (let r = 0; r < R; r++) {
        if (get(r, p) === d.id) {
          unassign(r, p);
          excess--;
          break;
        }
      }
    }
  }

  // 3b. Shedding to the rounded-up share can leave hungry devices short: shed one more from
  // devices above their rounded-down share until the free replicas cover every deficit.
  const deficit = () =>
    active.reduce((s, d) => s + Math.max(0, Math.floor((wanted.get(d.id) ?? 0) + 1e-9) - (counts.get(d.id) ?? 0)), 0);
  let need = deficit() - unassigned.length;
  for (let round = 0; need > 0 && round < 4; round++) {
    for (const d of active) {
      if (need <= 0) break;
      if ((counts.get(d.id) ?? 0) <= Math.floor((wanted.get(d.id) ?? 0) + 1e-9)) continue;
      for (let i = 0; i < parts; i++) {
        const p = order[i] ?? 0;
        if (movedNow[p] || !canMove(p)) continue;
        const r = ring.assignment.findIndex((row) => row[p] === d.id);
        if (r < 0) continue;
        unassign(r, p);
        need = deficit() - unassigned.length;
        break;
      }
    }
  }

  // 4. Hand every free replica to the hungriest device that keeps the partition dispersed.
  for (const [r, p] of unassigned) {
    const holders: number[] = [];
    for (let rr = 0; rr < R; rr++) {
      const id = get(rr, p);
      if (rr !== r && id !== UNASSIGNED) holders.push(id);
    }
    const zoneUse = new Map<number, number>();
    for (const id of holders) {
      const z = byId.get(id)?.zone ?? -1;
      zoneUse.set(z, (zoneUse.get(z) ?? 0) + 1);
    }
    let best: RingDevice | undefined;
    let bestKey: [number, number, number] = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, 0];
    for (const d of active) {
      const dup = holders.filter((h) => h === d.id).length;
      const key: [number, number, number] = [
        dup,
        zoneUse.get(d.zone) ?? 0,
        ((counts.get(d.id) ?? 0) - (wanted.get(d.id) ?? 0)) / (wanted.get(d.id) || 1),
      ];
      if (
        key[0] < bestKey[0] ||
        (key[0] === bestKey[0] && (key[1] < bestKey[1] || (key[1] === bestKey[1] && key[2] < bestKey[2])))
      ) {
        best = d;
        bestKey = key;
      }
    }
    if (!best) throw new Error('no device to assign to');
    set(r, p, best.id);
    counts.set(best.id, (counts.get(best.id) ?? 0) + 1);
  }
  for (let p = 0; p < parts; p++) if (movedNow[p]) ring.lastMoved[p] = now;

  // Moves actually made: a freed replica handed back to the same device is not a move.
  let moved = 0;
  for (let r = 0; r < R; r++) {
    const before = input.assignment[r];
    const after = ring.assignment[r];
    for (let p = 0; p < parts; p++) if (before?.[p] !== after?.[p]) moved++;
  }
  return { ring, moved, balance: ringBalance(ring) };
}

/** Partition-replicas whose device differs between two rings of the same shape. */
export function countMoves(a: RingData, b: RingData): number {
  let n = 0;
  for (let r = 0; r < Math.min(a.replicas, b.replicas); r++) {
    const x = a.assignment[r];
    const y = b.assignment[r];
    if (!x || !y) continue;
    for (let p = 0; p < x.length; p++) if (x[p] !== y[p]) n++;
  }
  return n;
}

/** Ring assignment as bytes (replica-major uint16 LE), and back: the stored form. */
export function encodeAssignment(ring: Pick<RingData, 'assignment'>): Buffer {
  return Buffer.concat(ring.assignment.map((row) => Buffer.from(row.buffer, row.byteOffset, row.byteLength)));
}

export function decodeAssignment(buf: Uint8Array, partPower: number, replicas: number): Uint16Array[] {
  const parts = 2 ** partPower;
  if (buf.byteLength !== parts * replicas * 2)
    throw new Error(`ring assignment has ${buf.byteLength} bytes, expected ${parts * replicas * 2}`);
  const copy = Uint8Array.from(buf);
  return Array.from({ length: replicas }, (_, r) => new Uint16Array(copy.buffer, r * parts * 2, parts));
}

export function encodeLastMoved(ring: Pick<RingData, 'lastMoved'>): Buffer {
  return Buffer.from(ring.lastMoved.buffer, ring.lastMoved.byteOffset, ring.lastMoved.byteLength);
}

export function decodeLastMoved(buf: Uint8Array, partPower: number): Uint32Array {
  const parts = 2 ** partPower;
  if (buf.byteLength !== parts * 4) return new Uint32Array(parts);
  return new Uint32Array(Uint8Array.from(buf).buffer);
}
