import type { AuthContext } from '../identity/types.ts';
import { unique } from '../identity/test-support.ts';
import { heartbeat } from '../platform/services.ts';
import { backendId, registerVolumeBackend } from './backends.ts';
import { db } from './common.ts';
import { createVolumeType } from './types.ts';

/*
 * The volume side of a test's setup: a worker host with the volume role that is up (a
 * fresh heartbeat), its backend registered with capacity facts, and a volume type that
 * selects that backend. Tests that need no worker then create volumes that the scheduler
 * places on it; the "worker finished" steps are status writes.
 *
 *   const { typeName, host } = await volumeTestBackend(admin, { prefix: 'rest' });
 */

export interface TestVolumeBackend {
  host: string;
  backendName: string;
  /** host@backend, as written on volumes placed there. */
  backend: string;
  /** A type whose volume_backend_name is this backend's. */
  typeName: string;
}

export async function volumeTestBackend(
  admin: AuthContext,
  o: {
    prefix: string;
    /** Shares a backend name with another test backend (the type then matches both). */
    backendName?: string;
    availabilityZone?: string;
    totalGb?: number;
  },
): Promise<TestVolumeBackend> {
  const host = unique(`${o.prefix}-vol`).slice(0, 60);
  await heartbeat(db(), { binary: 'stratus-worker', host, roles: ['volume'] }, { starting: true });
  const backendName = o.backendName ?? unique(`${o.prefix}file`).slice(0, 60);
  const totalGb = o.totalGb ?? 100;
  await registerVolumeBackend({
    host,
    backendName,
    driver: 'file',
    availabilityZone: o.availabilityZone ?? 'nova',
    totalGb,
    freeGb: totalGb,
    overSubscription: 20,
  });
  const type = await createVolumeType(admin, {
    name: unique(o.prefix),
    extraSpecs: { volume_backend_name: backendName },
  });
  return { host, backendName, backend: backendId(host, backendName), typeName: type.name };
}
