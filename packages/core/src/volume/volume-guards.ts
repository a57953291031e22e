import type { Tx, Volume as VolumeRow } from '@stratus/db';
import type { AuthContext } from '../identity/types.ts';
import { badRequest, notFound } from '../platform/errors.ts';
import { enforce } from '../policy/index.ts';
import { projectOf } from './common.ts';
import type { VolumeAction } from './state.ts';
import { checkVolume, loadVolume, lockVolume } from './volumes.ts';

/*
 * The checks snapshots and backups make alike before they touch the volume they copy (or,
 * for a restore, write into).
 */

/**
 * The volume a new snapshot or backup copies, before anything is written: the caller may
 * create one in its project (`rule`), can see the volume, and the name fits.
 */
export async function loadVolumeToCopy(
  ctx: AuthContext,
  rule: string,
  input: { volumeId: string; name?: string | null },
): Promise<VolumeRow> {
  enforce(ctx, rule, { project_id: projectOf(ctx) });
  const vol = await loadVolume(ctx, input.volumeId, 'volume:get');
  if (input.name && input.name.length > 255) throw badRequest('Invalid input: name is at most 255 characters.');
  return vol;
}

/**
 * The volume `id` locked in the caller's transaction for an operation its status must allow
 * (a snapshot, a backup, a restore into it): 404 when it is gone, naming it as the request
 * did (`asked`), 400 when its status does not allow `action`.
 */
export async function lockVolumeFor(tx: Tx, id: string, asked: string, action: VolumeAction): Promise<VolumeRow> {
  const v = await lockVolume(tx, id);
  if (!v) throw notFound(`Volume ${asked} could not be found.`);
  checkVolume(action, v);
  return v;
}
