import type { Tx } from '@stratus/db';
import { z } from 'zod';
import type { AuthContext } from '../identity/types.ts';
import { StratusError } from '../platform/errors.ts';
import { db } from './common.ts';
import { authorize, authorizeRead } from './policy.ts';

/** Neutron's default quotas; -1 is unlimited. */
export const NETWORK_QUOTA_DEFAULTS = {
  network: 100,
  subnet: 100,
  port: 500,
  router: 10,
  floatingip: 50,
  security_group: 10,
  security_group_rule: 100,
} as const;
export type NetworkQuotaResource = keyof typeof NETWORK_QUOTA_DEFAULTS;
export const NETWORK_QUOTA_RESOURCES: NetworkQuotaResource[] = [
  'network',
  'subnet',
  'port',
  'router',
  'floatingip',
  'security_group',
  'security_group_rule',
];
export type NetworkQuotaSet = Record<NetworkQuotaResource, number>;

const limit = z.coerce.number().int().min(-1);
export const NetworkQuotaUpdate = z
  .object({
    network: limit,
    subnet: limit,
    port: limit,
    router: limit,
    floatingip: limit,
    security_group: limit,
    security_group_rule: limit,
  })
  .partial()
  .strict();

async function effective(tx: Pick<Tx, 'networkQuota'>, projectId: string): Promise<NetworkQuotaSet> {
  const rows = await tx.networkQuota.findMany({ where: { projectId } });
  const q: NetworkQuotaSet = { ...NETWORK_QUOTA_DEFAULTS };
  for (const r of rows) if (r.resource in q) q[r.resource as NetworkQuotaResource] = r.hardLimit;
  return q;
}

async function used(tx: Tx, projectId: string, resource: NetworkQuotaResource): Promise<number> {
  const where = { projectId };
  switch (resource) {
    case 'network':
      return tx.network.count({ where });
    case 'subnet':
      return tx.subnet.count({ where });
    case 'port':
      return tx.port.count({ where });
    case 'router':
      return tx.router.count({ where });
    case 'floatingip':
      return tx.floatingIp.count({ where });
    case 'security_group':
      return tx.securityGroup.count({ where });
    case 'security_group_rule':
      return tx.securityGroupRule.count({ where });
  }
}

/** Neutron answers 409 OverQuota. */
export async function checkQuota(tx: Tx, projectId: string, resource: NetworkQuotaResource, adding = 1): Promise<void> {
  const q = await effective(tx, projectId);
  const limit = q[resource];
  if (limit < 0) return;
  const n = await used(tx, projectId, resource);
  if (n + adding > limit)
    throw new StratusError('Conflict', `NetworkQuotaSet exceeded for resources: ['${resource}'].`, {
      type: 'OverQuota',
    });
}

export async function getNetworkQuota(ctx: AuthContext, projectId: string): Promise<NetworkQuotaSet> {
  authorizeRead(
    ctx,
    'get_quota',
    { project_id: projectId },
    `NetworkQuotaSet for project ${projectId} could not be found.`,
  );
  return effective(db(), projectId);
}

export async function getNetworkQuotaDetails(
  ctx: AuthContext,
  projectId: string,
): Promise<Record<NetworkQuotaResource, { limit: number; used: number; reserved: number }>> {
  const q = await getNetworkQuota(ctx, projectId);
  const out = {} as Record<NetworkQuotaResource, { limit: number; used: number; reserved: number }>;
  await db().$transaction(async (tx) => {
    for (const k of NETWORK_QUOTA_RESOURCES) out[k] = { limit: q[k], used: await used(tx, projectId, k), reserved: 0 };
  });
  return out;
}

export async function updateNetworkQuota(
  ctx: AuthContext,
  projectId: string,
  input: z.infer<typeof NetworkQuotaUpdate>,
): Promise<NetworkQuotaSet> {
  authorize(ctx, 'update_quota', { project_id: projectId });
  await db().$transaction(async (tx) => {
    for (const [resource, hardLimit] of Object.entries(input)) {
      if (hardLimit === undefined) continue;
      await tx.networkQuota.upsert({
        where: { projectId_resource: { projectId, resource } },
        create: { projectId, resource, hardLimit },
        update: { hardLimit },
      });
    }
  });
  return effective(db(), projectId);
}

export async function deleteNetworkQuota(ctx: AuthContext, projectId: string): Promise<void> {
  authorize(ctx, 'delete_quota', { project_id: projectId });
  await db().networkQuota.deleteMany({ where: { projectId } });
}

export async function listNetworkQuotas(ctx: AuthContext): Promise<{ projectId: string; quota: NetworkQuotaSet }[]> {
  authorize(ctx, 'update_quota', {});
  const rows = await db().networkQuota.findMany({ distinct: ['projectId'], select: { projectId: true } });
  return Promise.all(rows.map(async (r) => ({ projectId: r.projectId, quota: await effective(db(), r.projectId) })));
}
