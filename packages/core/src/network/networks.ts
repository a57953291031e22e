import type { Network, Subnet, Tx } from '@stratus/db';
import { z } from 'zod';
import type { AuthContext } from '../identity/types.ts';
import {
  cfg,
  db,
  isUniqueViolation,
  isUuid,
  nBadRequest,
  nConflict,
  nNotFound,
  projectOf,
  requestSync,
  transaction,
  parseNeutronInput,
  emitNetworkEvent,
  pageArgs,
} from './common.ts';
import { authorize, authorizeRead, isAdmin, tf } from './policy.ts';
import { checkQuota } from './quotas.ts';

export type NetworkRecord = Network & { subnets: { id: string }[] };

export const NetworkInput = z.object({
  name: z.string().max(255).default(''),
  description: z.string().max(255).default(''),
  admin_state_up: z.boolean().default(true),
  shared: z.boolean().default(false),
  'router:external': z.boolean().default(false),
  mtu: z.number().int().min(68).max(9000).optional(),
  'provider:network_type': z.enum(['flat', 'vxlan']).optional(),
  'provider:physical_network': z.string().max(64).nullish(),
  'provider:segmentation_id': z.number().int().nullish(),
  port_security_enabled: z.boolean().default(true),
  project_id: z.string().optional(),
  tenant_id: z.string().optional(),
  availability_zone_hints: z.array(z.string()).optional(),
});
export type NetworkInput = z.input<typeof NetworkInput>;

export const NetworkUpdate = z.object({
  name: z.string().max(255).optional(),
  description: z.string().max(255).optional(),
  admin_state_up: z.boolean().optional(),
  shared: z.boolean().optional(),
  'router:external': z.boolean().optional(),
  mtu: z.number().int().min(68).max(9000).optional(),
  port_security_enabled: z.boolean().optional(),
});

export const networkTarget = (n: Pick<Network, 'projectId' | 'shared' | 'external'>) => ({
  project_id: n.projectId,
  tenant_id: n.projectId,
  network_project_id: n.projectId,
  shared: tf(n.shared),
  external: tf(n.external),
});

/** The lowest free VNI of the configured range (the unique index arbitrates races). */
async function allocateVni(tx: Tx): Promise<number> {
  const { networkVniMin: min, networkVniMax: max } = cfg();
  const rows = await tx.$queryRaw<{ v: number }[]>`
    SELECT g.v FROM generate_series(${min}::int, ${max}::int) AS g(v)
    WHERE NOT EXISTS (SELECT 1 FROM "Network" n WHERE n."networkType" = 'vxlan' AND n."segmentationId" = g.v)
    LIMIT 1`;
  const v = rows[0]?.v;
  if (v === undefined)
    throw nConflict(
      'NoNetworkAvailable',
      'Unable to create the network. No tenant network is available for allocation.',
    );
  return v;
}

export async function createNetwork(
  ctx: AuthContext,
  input: NetworkInput | Record<string, unknown>,
): Promise<NetworkRecord> {
  const v = parseNeutronInput(NetworkInput, input);
  const projectId = v.project_id ?? v.tenant_id ?? projectOf(ctx);
  const target = {
    project_id: projectId,
    tenant_id: projectId,
    shared: tf(v.shared),
    external: tf(v['router:external']),
  };
  authorize(ctx, 'create_network', target);
  if (v.shared) authorize(ctx, 'create_network:shared', target);
  if (v['router:external']) authorize(ctx, 'create_network:router:external', target);
  if (v['provider:network_type']) authorize(ctx, 'create_network:provider:network_type', target);
  if (v['provider:segmentation_id'] != null) authorize(ctx, 'create_network:provider:segmentation_id', target);
  if (v['provider:physical_network'] != null) authorize(ctx, 'create_network:provider:physical_network', target);
  // External networks are host-only flat bridges; tenant networks are VXLAN segments.
  const type = v['provider:network_type'] ?? (v['router:external'] ? 'flat' : 'vxlan');
  const seg = v['provider:segmentation_id'] ?? null;
  if (type === 'flat' && seg !== null) throw nBadRequest('segmentation_id requires a VLAN or tunnel provider network.');
  if (type === 'vxlan' && seg !== null && (seg < 1 || seg > 16777215))
    throw nBadRequest(`Invalid segmentation id ${seg}: it must be between 1 and 16777215.`);
  const mtu = v.mtu ?? (type === 'flat' ? 1500 : cfg().networkMtu);
  for (let attempt = 0; ; attempt++) {
    try {
      return await transaction(async (tx) => {
        await checkQuota(tx, projectId, 'network');
        const segmentationId = type === 'vxlan' ? (seg ?? (await allocateVni(tx))) : null;
        const net = await tx.network.create({
          data: {
            projectId,
            name: v.name,
            description: v.description,
            adminStateUp: v.admin_state_up,
            shared: v.shared,
            external: v['router:external'],
            mtu,
            networkType: type,
            physicalNetwork: type === 'flat' ? (v['provider:physical_network'] ?? 'public') : null,
            segmentationId,
            portSecurityEnabled: v.port_security_enabled,
            status: 'ACTIVE',
          },
          include: { subnets: { select: { id: true } } },
        });
        await requestSync(tx, `network ${net.id} created`);
        await emitNetworkEvent(tx, 'network', 'created', net.projectId, net.id);
        return net;
      });
    } catch (err) {
      if (isUniqueViolation(err, 'segmentationId')) {
        if (seg !== null)
          throw nConflict('SegmentationIdInUse', `Unable to create the network. The VXLAN ${seg} is in use.`);
        if (attempt < 20) continue;
      }
      throw err;
    }
  }
}

export interface NetworkFilter {
  ids?: string[];
  names?: string[];
  projectId?: string;
  shared?: boolean;
  external?: boolean;
  status?: string;
  /** The dashboard's project view: the project's own networks plus shared and external ones. */
  visibleTo?: string;
  /** Case-insensitive substring of the name. */
  nameContains?: string;
  marker?: string;
  limit?: number;
}

export async function listNetworks(ctx: AuthContext, f: NetworkFilter = {}): Promise<NetworkRecord[]> {
  const admin = isAdmin(ctx);
  return db().network.findMany({
    where: {
      AND: [
        admin ? {} : { OR: [{ projectId: ctx.projectId ?? '' }, { shared: true }, { external: true }] },
        f.ids ? { id: { in: f.ids.filter(isUuid) } } : {},
        f.names ? { name: { in: f.names } } : {},
        f.projectId ? { projectId: f.projectId } : {},
        f.shared !== undefined ? { shared: f.shared } : {},
        f.external !== undefined ? { external: f.external } : {},
        f.status ? { status: f.status } : {},
        f.visibleTo ? { OR: [{ projectId: f.visibleTo }, { shared: true }, { external: true }] } : {},
        f.nameContains ? { name: { contains: f.nameContains, mode: 'insensitive' as const } } : {},
      ],
    },
    include: { subnets: { select: { id: true }, orderBy: { createdAt: 'asc' } } },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    ...pageArgs(f.marker, f.limit),
  });
}

export async function getNetwork(ctx: AuthContext, id: string): Promise<NetworkRecord> {
  const what = `Network ${id} could not be found.`;
  const net = isUuid(id)
    ? await db().network.findUnique({
        where: { id },
        include: { subnets: { select: { id: true }, orderBy: { createdAt: 'asc' } } },
      })
    : null;
  if (!net) throw nNotFound('NetworkNotFound', what);
  authorizeRead(ctx, 'get_network', networkTarget(net), what);
  return net;
}

export async function updateNetwork(
  ctx: AuthContext,
  id: string,
  input: z.input<typeof NetworkUpdate> | Record<string, unknown>,
): Promise<NetworkRecord> {
  const v = parseNeutronInput(NetworkUpdate, input);
  const net = await getNetwork(ctx, id);
  authorize(ctx, 'update_network', networkTarget(net));
  if (v.shared !== undefined && v.shared !== net.shared) authorize(ctx, 'update_network:shared', networkTarget(net));
  if (v['router:external'] !== undefined && v['router:external'] !== net.external)
    authorize(ctx, 'update_network:router:external', networkTarget(net));
  await transaction(async (tx) => {
    await tx.network.update({
      where: { id },
      data: {
        name: v.name,
        description: v.description,
        adminStateUp: v.admin_state_up,
        shared: v.shared,
        external: v['router:external'],
        mtu: v.mtu,
        portSecurityEnabled: v.port_security_enabled,
      },
    });
    await requestSync(tx, `network ${id} updated`);
    await emitNetworkEvent(tx, 'network', 'updated', net.projectId, id);
  });
  return getNetwork(ctx, id);
}

/** Ports the network deletes with itself (Neutron: DHCP ports); others make it "in use". */
const AUTO_OWNERS = ['network:dhcp'];

export async function deleteNetwork(ctx: AuthContext, id: string): Promise<void> {
  const net = await getNetwork(ctx, id);
  authorize(ctx, 'delete_network', networkTarget(net));
  await transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM "Network" WHERE id = ${id}::uuid FOR UPDATE`;
    const busy = await tx.port.count({ where: { networkId: id, deviceOwner: { notIn: AUTO_OWNERS } } });
    if (busy > 0)
      throw nConflict(
        'NetworkInUse',
        `Unable to complete operation on network ${id}. There are one or more ports still in use on the network.`,
      );
    await tx.port.deleteMany({ where: { networkId: id } });
    await tx.subnet.deleteMany({ where: { networkId: id } });
    await tx.network.delete({ where: { id } });
    await requestSync(tx, `network ${id} deleted`);
    await emitNetworkEvent(tx, 'network', 'deleted', net.projectId, id);
  });
}

export type SubnetRow = Subnet;
