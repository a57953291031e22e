import { emitEvent, type Prisma, type Server as ServerRow, type Tx } from '@stratus/db';
import { serverStatus } from './state.ts';

/*
 * The two writes every state change makes: the server row (with its live event) and
 * the instance-action event that tells the user what happened and when.
 */

export type ServerPatch = Pick<
  Prisma.ServerUpdateInput,
  | 'vmState'
  | 'taskState'
  | 'powerState'
  | 'host'
  | 'node'
  | 'fault'
  | 'launchedAt'
  | 'terminatedAt'
  | 'deleted'
  | 'deletedAt'
  | 'triedHosts'
  | 'locked'
  | 'lockedBy'
  | 'lockedReason'
  | 'name'
  | 'metadata'
  | 'availabilityZone'
  | 'flavor'
  | 'flavorId'
  | 'imageId'
>;

export async function updateServer(tx: Tx, serverId: string, patch: ServerPatch): Promise<ServerRow> {
  const s = await tx.server.update({ where: { id: serverId }, data: patch });
  await emitServerEvent(tx, s, s.deleted ? 'server.deleted' : 'server.updated');
  return s;
}

export async function emitServerEvent(tx: Pick<Tx, '$executeRaw'>, s: ServerRow, type: string): Promise<void> {
  await emitEvent(tx, {
    type,
    projectId: s.projectId,
    resourceId: s.id,
    data: {
      name: s.name,
      status: s.deleted ? 'DELETED' : serverStatus(s.vmState, s.taskState),
      vmState: s.vmState,
      taskState: s.taskState,
      powerState: s.powerState,
      host: s.host,
    },
  });
}

export async function startAction(
  tx: Tx,
  a: { serverId: string; action: string; requestId: string; projectId: string; userId: string },
): Promise<string> {
  const r = await tx.instanceAction.create({ data: a });
  return r.id;
}

/** Starts an action event; idempotent (a retried job keeps the first start time). */
export async function eventStart(tx: Tx, actionId: string, event: string, host?: string | null): Promise<void> {
  await tx.instanceActionEvent.upsert({
    where: { actionId_event: { actionId, event } },
    create: { actionId, event, host: host ?? null },
    update: { host: host ?? null, result: null, finishTime: null },
  });
}

export async function eventFinish(
  tx: Tx,
  actionId: string,
  event: string,
  result: 'Success' | 'Error',
  o: { host?: string | null; message?: string; traceback?: string } = {},
): Promise<void> {
  await tx.instanceActionEvent.upsert({
    where: { actionId_event: { actionId, event } },
    create: {
      actionId,
      event,
      host: o.host ?? null,
      result,
      message: o.message ?? null,
      traceback: o.traceback ?? null,
      finishTime: new Date(),
    },
    update: { result, message: o.message ?? null, traceback: o.traceback ?? null, finishTime: new Date() },
  });
}

export async function finishAction(tx: Tx, actionId: string, message?: string): Promise<void> {
  await tx.instanceAction.update({
    where: { id: actionId },
    data: { finishTime: new Date(), ...(message ? { message } : {}) },
  });
}

/** A fault as Nova stores it. */
export function fault(code: number, message: string, details = ''): Prisma.InputJsonValue {
  return { code, message, details, created: new Date().toISOString() };
}
