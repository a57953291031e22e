import { createReadStream } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { SwiftTimestamp } from '../backend.ts';
import { swiftTimestamp } from '../hash.ts';
import type { RingDevice } from '../ring/builder.ts';
import type { Ring, RingSource } from '../ring/ring.ts';
import {
  cachedPartitionHashes,
  hashDir,
  isMounted,
  listPartitions,
  listSuffix,
  quarantineHashDir,
  removeEmptyDirs,
  removeHashFiles,
  stateOfFiles,
  verifyDataFile,
} from './diskfile.ts';
import { DEFAULT_HASH_CACHE_MAX_AGE_MS, type HashCacheStats, RECLAIM_AGE_SECONDS } from './hashes.ts';
import { readdir } from 'node:fs/promises';

/*
 * Replicator (Swift's object-replicator, push model): for every partition on this host's
 * devices, compare the md5 of each suffix directory's listing with the other primaries', and
 * for the suffixes that differ push every file the other side lacks and would keep (newest
 * wins there too). A partition on a device that is not one of its primaries (a handoff copy,
 * or the ring moved it) is pushed to all primaries and removed here once every primary
 * accepted it. The local suffix hashes, and the remote ones its object server answers with,
 * come from each partition's suffix-hash cache (hashes.ts): a pass over a partition where
 * nothing changed reads one small file per device instead of every hash directory.
 *
 * Auditor: reads every .data file, compares the md5 of its bytes with the etag stored in its
 * trailer, and moves a corrupt object's directory to <device>/quarantined/, so that the
 * replicator (seeing the suffix differ) copies a good replica back.
 */

export interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface ReplicatorOptions {
  ring: RingSource;
  /** Folder holding this host's device folders. */
  devicesRoot: string;
  /** Which ring devices are this host's (by address and port of its object server). */
  isLocal(dev: RingDevice): boolean;
  log?: Logger;
  /** Per-request timeout. */
  timeoutMs?: number;
  /** Tombstones older than this are removed (default a week, as Swift's reclaim_age). */
  reclaimAgeSeconds?: number;
  /** Maximum age of a partition's suffix-hash cache (hashes.ts); 0 = no cache. Default 1 h. */
  hashCacheMaxAgeMs?: number;
}

export { RECLAIM_AGE_SECONDS };

export interface ReplicationStats {
  partitions: number;
  suffixesSynced: number;
  filesPushed: number;
  handoffPartitionsRemoved: number;
  /** Partitions copied to a handoff because a primary could not be reached. */
  handoffPushes: number;
  failures: number;
  /** Local partitions whose suffix hashes came from the cache (some suffixes maybe rehashed). */
  hashCacheHits: number;
  /** Local partitions listed in full (no cache, too old, or the cache is off). */
  partitionsHashed: number;
  /** Suffixes rehashed because a change invalidated them. */
  suffixesRehashed: number;
}

const agent = new Agent({ keepAlive: true, maxSockets: 8 });

const SuffixHashes = z.record(z.string(), z.string());
const SuffixListing = z.record(z.string(), z.array(z.string()));

function httpJson(dev: RingDevice, path: string, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request({ host: dev.host, port: dev.port, path, method: 'GET', agent, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200)
          return reject(new Error(`${dev.host}:${dev.port}/${dev.device}${path}: ${res.statusCode}`));
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (err) {
          reject(err);
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function pushFile(dev: RingDevice, path: string, file: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: dev.host, port: dev.port, path, method: 'PUT', agent, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 201 ? resolve() : reject(new Error(`push ${path}: ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    const src = createReadStream(file);
    src.on('error', (err) => req.destroy(err));
    src.pipe(req);
  });
}

const rpath = (dev: RingDevice, ...segs: Array<string | number>) =>
  `/_r/${[dev.device, ...segs].map((s) => encodeURIComponent(String(s))).join('/')}`;

/**
 * Pushes one partition of one local device to `targets`. Returns the local files every
 * target now has or supersedes (per hash), and whether every target could be synced.
 */
async function syncPartition(
  devPath: string,
  partition: number,
  targets: RingDevice[],
  o: {
    timeoutMs: number;
    stats: ReplicationStats;
    log?: Logger | undefined;
    reclaimBefore?: SwiftTimestamp | undefined;
    hashCacheMaxAgeMs?: number | undefined;
    /** Work out which local files every target holds (to remove a handoff copy). */
    coverage: boolean;
  },
): Promise<{ allSynced: boolean; synced: Map<string, string[]>; failed: RingDevice[] }> {
  const { timeoutMs, stats, log, reclaimBefore } = o;
  const hashCacheMaxAgeMs = o.hashCacheMaxAgeMs ?? DEFAULT_HASH_CACHE_MAX_AGE_MS;
  const cacheStats: HashCacheStats = { hits: 0, full: 0, suffixesRecomputed: 0 };
  const local = await cachedPartitionHashes(
    devPath,
    partition,
    { maxAgeMs: hashCacheMaxAgeMs, ...(reclaimBefore ? { reclaimBefore } : {}) },
    cacheStats,
  );
  stats.hashCacheHits += cacheStats.hits;
  stats.partitionsHashed += cacheStats.full;
  stats.suffixesRehashed += cacheStats.suffixesRecomputed;
  const listings = new Map<string, Record<string, string[]>>();
  const localListing = async (suffix: string) => {
    let l = listings.get(suffix);
    if (!l) {
      l = await listSuffix(devPath, partition, suffix);
      listings.set(suffix, l);
    }
    return l;
  };
  let allSynced = true;
  const failed: RingDevice[] = [];
  // hash → files known to be on (or superseded on) every target so far
  const coveredBy = new Map<string, { files: string[]; targets: number }>();
  const cover = (hash: string, files: string[]) => {
    const c = coveredBy.get(hash);
    if (!c) coveredBy.set(hash, { files, targets: 1 });
    else c.targets++;
  };
  for (const t of targets) {
    try {
      const remote = SuffixHashes.parse(await httpJson(t, rpath(t, partition), timeoutMs));
      for (const [suffix, h] of Object.entries(local)) {
        if (remote[suffix] === h) {
          // In sync: nothing to read here unless a handoff copy is to be given up.
          if (o.coverage) for (const [hash, files] of Object.entries(await localListing(suffix))) cover(hash, files);
          continue;
        }
        const mine = await localListing(suffix);
        const theirs = SuffixListing.parse(await httpJson(t, rpath(t, partition, suffix), timeoutMs));
        for (const [hash, files] of Object.entries(mine)) {
          const have = theirs[hash] ?? [];
          for (const f of files) {
            if (have.includes(f)) continue;
            // Push only what the other side would keep under "newest wins".
            const merged = stateOfFiles([...have, f]);
            if (merged.obsolete.includes(f)) continue;
            await pushFile(
              t,
              rpath(t, partition, suffix, hash, f),
              join(hashDir(devPath, partition, hash), f),
              timeoutMs,
            );
            stats.filesPushed++;
          }
          cover(hash, files);
        }
        stats.suffixesSynced++;
      }
    } catch (err) {
      allSynced = false;
      failed.push(t);
      stats.failures++;
      log?.warn(
        { err: String(err), device: `${t.host}:${t.port}/${t.device}`, partition },
        'replication to a device failed',
      );
    }
  }
  const synced = new Map<string, string[]>();
  for (const [hash, c] of coveredBy) if (c.targets === targets.length) synced.set(hash, c.files);
  return { allSynced, synced, failed };
}

export async function replicateOnce(opts: ReplicatorOptions): Promise<ReplicationStats> {
  const ring: Ring = opts.ring.current();
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const reclaimBefore = swiftTimestamp(Date.now() - (opts.reclaimAgeSeconds ?? RECLAIM_AGE_SECONDS) * 1000);
  const stats: ReplicationStats = {
    partitions: 0,
    suffixesSynced: 0,
    filesPushed: 0,
    handoffPartitionsRemoved: 0,
    handoffPushes: 0,
    failures: 0,
    hashCacheHits: 0,
    partitionsHashed: 0,
    suffixesRehashed: 0,
  };
  for (const dev of ring.devices.filter((d) => opts.isLocal(d))) {
    const devPath = join(opts.devicesRoot, dev.device);
    if (!(await isMounted(devPath))) continue;
    for (const partition of await listPartitions(devPath)) {
      if (partition >= ring.parts) continue;
      stats.partitions++;
      const primaries = ring.primaries(partition);
      const targets = primaries.filter((p) => p.id !== dev.id);
      const handoff = !primaries.some((p) => p.id === dev.id);
      const { allSynced, synced, failed } = await syncPartition(devPath, partition, targets, {
        timeoutMs,
        stats,
        log: opts.log,
        reclaimBefore,
        hashCacheMaxAgeMs: opts.hashCacheMaxAgeMs,
        coverage: handoff,
      });
      if (!handoff && failed.length > 0) {
        // A primary that cannot be reached: keep the replica count with a handoff device,
        // whose replicator gives the copy back once the primary answers again.
        const spares = ring.handoffs(partition).filter((d) => d.id !== dev.id);
        for (const _ of failed) {
          const spare = spares.shift();
          if (!spare) break;
          const r = await syncPartition(devPath, partition, [spare], {
            timeoutMs,
            stats,
            log: opts.log,
            hashCacheMaxAgeMs: opts.hashCacheMaxAgeMs,
            coverage: false,
          });
          if (r.allSynced) stats.handoffPushes++;
        }
      }
      if (handoff && allSynced) {
        // Every primary has these files (or newer): this copy is no longer needed.
        for (const [hash, files] of synced) await removeHashFiles(devPath, partition, hash, files);
        await removeEmptyDirs(devPath, partition);
        stats.handoffPartitionsRemoved++;
        opts.log?.info({ device: dev.device, partition }, 'handoff partition moved to its primaries');
      }
    }
  }
  return stats;
}

export interface AuditorOptions {
  devicesRoot: string;
  /** Device folder names to audit. */
  devices: string[];
  /** Read at most this many bytes per second (0 = no limit). */
  bytesPerSecond?: number;
  log?: Logger;
}

export interface AuditStats {
  checked: number;
  bytes: number;
  quarantined: string[];
}

async function dirs(path: string): Promise<string[]> {
  return readdir(path).catch(() => []);
}

export async function auditOnce(opts: AuditorOptions): Promise<AuditStats> {
  const stats: AuditStats = { checked: 0, bytes: 0, quarantined: [] };
  const started = Date.now();
  for (const name of opts.devices) {
    const devPath = join(opts.devicesRoot, name);
    if (!(await isMounted(devPath))) continue;
    for (const partition of await listPartitions(devPath)) {
      const pdir = join(devPath, 'objects', String(partition));
      for (const suffix of await dirs(pdir)) {
        for (const hash of await dirs(join(pdir, suffix))) {
          const dir = join(pdir, suffix, hash);
          const { data } = stateOfFiles(await dirs(dir));
          if (!data) continue;
          let result: { ok: boolean; reason?: string; bytes: number };
          try {
            result = await verifyDataFile(join(dir, data.file));
          } catch {
            continue; // replaced or removed while we looked
          }
          stats.checked++;
          stats.bytes += result.bytes;
          if (!result.ok) {
            const dest = await quarantineHashDir(devPath, partition, hash);
            stats.quarantined.push(dest);
            opts.log?.warn(
              { device: name, partition, hash, reason: result.reason, quarantined: dest },
              'auditor quarantined a corrupt object',
            );
          }
          if (opts.bytesPerSecond && opts.bytesPerSecond > 0) {
            const due = (stats.bytes / opts.bytesPerSecond) * 1000 - (Date.now() - started);
            if (due > 0) await sleep(due);
          }
        }
      }
    }
  }
  return stats;
}
