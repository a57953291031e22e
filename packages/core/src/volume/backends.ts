import type { PrismaClient, Tx, VolumeBackend } from '@stratus/db';
import type { AuthContext } from '../identity/types.ts';
import { enforce } from '../policy/index.ts';
import { cfg, db } from './common.ts';
import type { VolumeTypeView } from './types.ts';

/*
 * Backends (cinder-volume's host@backend) and the volume scheduler. A worker with the
 * volume role registers its backend with capacity facts at start and refreshes them; the
 * scheduler picks, inside the creating transaction, a backend that is up, matches the
 * type's volume_backend_name, sits in the asked availability zone and has room
 * (allocated + size ≤ total × over-subscription, and free space on the disk), then
 * weighs by most free capacity (Cinder's CapacityWeigher).
 */
export interface BackendFacts {
  host: string;
  backendName: string;
  driver: string;
  availabilityZone: string;
  totalGb: number;
  freeGb: number;
  overSubscription: number;
}

export const backendId = (host: string, backendName: string): string => `${host}@${backendName}`;

export async function registerVolumeBackend(f: BackendFacts, client: PrismaClient = db()): Promise<string> {
  const name = backendId(f.host, f.backendName);
  await client.volumeBackend.upsert({
    where: { name },
    create: { name, ...f },
    update: { ...f },
  });
  return name;
}

export interface BackendView extends VolumeBackend {
  allocatedGb: number;
  up: boolean;
}

async function upHosts(tx: Pick<Tx, 'service'>): Promise<Set<string>> {
  const since = new Date(Date.now() - cfg().serviceDownSeconds * 1000);
  const services = await tx.service.findMany({
    where: { binary: 'stratus-worker', lastHeartbeat: { gte: since }, disabled: false },
    select: { host: true, roles: true },
  });
  return new Set(services.filter((s) => s.roles.includes('volume')).map((s) => s.host));
}

async function allocated(tx: Pick<Tx, 'volume' | 'volumeSnapshot'>, backend: string): Promise<number> {
  const v = await tx.volume.aggregate({ where: { backend }, _sum: { size: true } });
  const s = await tx.volumeSnapshot.aggregate({ where: { backend }, _sum: { size: true } });
  return (v._sum.size ?? 0) + (s._sum.size ?? 0);
}

export async function listVolumeBackends(ctx: AuthContext): Promise<BackendView[]> {
  enforce(ctx, 'volume_extension:capabilities');
  const up = await upHosts(db());
  const rows = await db().volumeBackend.findMany({ orderBy: { name: 'asc' } });
  return Promise.all(rows.map(async (b) => ({ ...b, allocatedGb: await allocated(db(), b.name), up: up.has(b.host) })));
}

/** The availability zones that have at least one backend that is up. */
export async function volumeAvailabilityZones(): Promise<Array<{ name: string; available: boolean }>> {
  const up = await upHosts(db());
  const rows = await db().volumeBackend.findMany();
  const zones = new Map<string, boolean>();
  for (const b of rows) zones.set(b.availabilityZone, (zones.get(b.availabilityZone) ?? false) || up.has(b.host));
  if (zones.size === 0) zones.set(cfg().defaultAvailabilityZone, false);
  return [...zones].map(([name, available]) => ({ name, available }));
}

export type Placement = { backend: VolumeBackend } | { error: string };

export async function selectVolumeBackend(
  tx: Tx,
  req: { sizeGb: number; type: VolumeTypeView; availabilityZone: string; only?: string | null; onlyHost?: string },
): Promise<Placement> {
  const up = await upHosts(tx);
  const wantName = req.type.extraSpecs.volume_backend_name;
  const zones = req.type.extraSpecs['RESKEY:availability_zones']
    ?.split(',')
    .map((z) => z.trim())
    .filter(Boolean);
  if (zones?.length && !zones.includes(req.availabilityZone))
    return { error: `Volume type ${req.type.name} is not available in zone ${req.availabilityZone}.` };
  const all = await tx.volumeBackend.findMany({ orderBy: { name: 'asc' } });
  const reasons: string[] = [];
  const fits: Array<{ b: VolumeBackend; free: number }> = [];
  for (const b of all) {
    if (req.only && b.name !== req.only) continue;
    if (req.onlyHost && b.host !== req.onlyHost) continue;
    if (!up.has(b.host)) {
      reasons.push(`${b.name}: service down`);
      continue;
    }
    if (wantName && b.backendName !== wantName) {
      reasons.push(`${b.name}: volume_backend_name is ${b.backendName}, not ${wantName}`);
      continue;
    }
    if (b.availabilityZone !== req.availabilityZone) {
      reasons.push(`${b.name}: in zone ${b.availabilityZone}`);
      continue;
    }
    const used = await allocated(tx, b.name);
    const room = Math.floor(b.totalGb * b.overSubscription) - used;
    if (room < req.sizeGb) {
      reasons.push(`${b.name}: ${room} GB left of its provisioned capacity`);
      continue;
    }
    // Thin volumes grow into real space: keep at least 1 GB free on the disk.
    if (b.freeGb < 1) {
      reasons.push(`${b.name}: disk full`);
      continue;
    }
    fits.push({ b, free: room });
  }
  fits.sort((x, y) => y.free - x.free);
  const best = fits[0];
  if (!best) return { error: `No valid backend was found. ${reasons.join('; ') || 'No backends are registered.'}` };
  return { backend: best.b };
}
