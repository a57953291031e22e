import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { VolumeTransfer as TransferRow } from '@stratus/db';
import type { AuthContext } from '../identity/types.ts';
import { badRequest, forbidden, notFound } from '../platform/errors.ts';
import { enforce } from '../policy/index.ts';
import { allowedRow, db, invalid, isUuid, listScope, newUuid, projectOf, TX } from './common.ts';
import { checkVolumeQuota } from './quotas.ts';
import { updateVolumeRow } from './records.ts';
import { VolumeStatus } from './state.ts';
import { loadVolume, lockVolume } from './volumes.ts';

/*
 * Volume transfers (Cinder's os-volume-transfer): the owner creates a transfer and gets an
 * auth key once (only its salted hash is stored); someone in another project accepts
 * with the transfer id and the key, and the volume — with its snapshots — moves to the
 * accepting project, counted against that project's quota.
 */
export interface TransferView {
  id: string;
  volumeId: string;
  name: string | null;
  projectId: string;
  createdAt: Date;
}
export interface CreatedTransfer extends TransferView {
  authKey: string;
}

const hashOf = (salt: string, key: string) => createHash('sha256').update(`${salt}:${key}`).digest('hex');
const view = (t: TransferRow): TransferView => ({
  id: t.id,
  volumeId: t.volumeId,
  name: t.name,
  projectId: t.projectId,
  createdAt: t.createdAt,
});

export async function createVolumeTransfer(
  ctx: AuthContext,
  input: { volumeId: string; name?: string | null },
): Promise<CreatedTransfer> {
  const projectId = projectOf(ctx);
  enforce(ctx, 'volume:create_transfer', { project_id: projectId });
  const vol = await loadVolume(ctx, input.volumeId, 'volume:get');
  if (input.name && input.name.length > 255) throw badRequest('Invalid input: name is at most 255 characters.');
  const authKey = randomBytes(8).toString('hex');
  const salt = randomBytes(8).toString('hex');
  const t = await db().$transaction(async (tx) => {
    const v = await lockVolume(tx, vol.id);
    if (!v) throw notFound(`Volume ${input.volumeId} could not be found.`);
    if (v.status !== VolumeStatus.AVAILABLE)
      throw invalid('volume', `Status of volume must be available (status: ${v.status})`);
    const busySnap = await tx.volumeSnapshot.count({ where: { volumeId: v.id, status: { not: 'available' } } });
    if (busySnap > 0) throw invalid('volume', 'Volume has snapshots that are not available.');
    const row = await tx.volumeTransfer.create({
      data: {
        id: newUuid(),
        volumeId: v.id,
        projectId: v.projectId,
        name: input.name ?? null,
        salt,
        cryptHash: hashOf(salt, authKey),
      },
    });
    await updateVolumeRow(tx, v.id, { status: VolumeStatus.AWAITING_TRANSFER });
    return row;
  }, TX);
  return { ...view(t), authKey };
}

async function loadTransfer(ctx: AuthContext, id: string, action: string): Promise<TransferRow> {
  const t = isUuid(id) ? await db().volumeTransfer.findUnique({ where: { id } }) : null;
  return allowedRow(ctx, t, action, `Transfer ${id} could not be found.`);
}

export async function getVolumeTransfer(ctx: AuthContext, id: string): Promise<TransferView> {
  return view(await loadTransfer(ctx, id, 'volume:get_transfer'));
}

export async function listVolumeTransfers(ctx: AuthContext, o: { allTenants?: boolean } = {}): Promise<TransferView[]> {
  const rows = await db().volumeTransfer.findMany({
    where: listScope(ctx, 'volume:get_all_transfers', o),
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
  });
  return rows.map(view);
}

export async function deleteVolumeTransfer(ctx: AuthContext, id: string): Promise<void> {
  const t = await loadTransfer(ctx, id, 'volume:delete_transfer');
  await db().$transaction(async (tx) => {
    const v = await lockVolume(tx, t.volumeId);
    const gone = await tx.volumeTransfer.deleteMany({ where: { id: t.id } });
    if (gone.count === 0) throw notFound(`Transfer ${id} could not be found.`);
    if (v && v.status === VolumeStatus.AWAITING_TRANSFER)
      await updateVolumeRow(tx, v.id, { status: VolumeStatus.AVAILABLE });
  }, TX);
}

/** Accepts into the caller's project; a wrong key is 400 as Cinder answers. */
export async function acceptVolumeTransfer(
  ctx: AuthContext,
  id: string,
  authKey: string,
): Promise<{ id: string; volumeId: string; name: string | null }> {
  const projectId = projectOf(ctx);
  enforce(ctx, 'volume:accept_transfer', { project_id: projectId });
  // Any project may accept: the key is the capability. The transfer is looked up unscoped.
  const t = isUuid(id) ? await db().volumeTransfer.findUnique({ where: { id } }) : null;
  if (!t) throw notFound(`Transfer ${id} could not be found.`);
  const want = Buffer.from(t.cryptHash, 'hex');
  const got = Buffer.from(hashOf(t.salt, authKey), 'hex');
  if (want.length !== got.length || !timingSafeEqual(want, got))
    throw badRequest(`Invalid auth key: Attempt to transfer ${t.volumeId} with invalid auth key.`);
  if (t.projectId === projectId) throw forbidden('A volume cannot be transferred to the project that owns it.');
  await db().$transaction(async (tx) => {
    const v = await lockVolume(tx, t.volumeId);
    const still = await tx.volumeTransfer.findUnique({ where: { id: t.id } });
    if (!v || !still) throw notFound(`Transfer ${id} could not be found.`);
    if (v.status !== VolumeStatus.AWAITING_TRANSFER)
      throw invalid('volume', `Status of volume must be awaiting-transfer (status: ${v.status})`);
    const snaps = await tx.volumeSnapshot.findMany({ where: { volumeId: v.id } });
    const gb = v.size + snaps.reduce((n, s) => n + s.size, 0);
    await checkVolumeQuota(
      tx,
      projectId,
      { volumes: 1, gigabytes: gb, ...(snaps.length ? { snapshots: snaps.length } : {}) },
      v.size,
    );
    await tx.volumeSnapshot.updateMany({ where: { volumeId: v.id }, data: { projectId, userId: ctx.userId } });
    await tx.volumeTransfer.delete({ where: { id: t.id } });
    await updateVolumeRow(tx, v.id, { status: VolumeStatus.AVAILABLE, projectId, userId: ctx.userId });
  }, TX);
  const v = await db().volume.findUniqueOrThrow({ where: { id: t.volumeId } });
  return { id: t.id, volumeId: v.id, name: t.name };
}
