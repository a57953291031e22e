import type { FloatingIp, Router, RouterInterface, Tx } from '@stratus/db';
import { z } from 'zod';
import { emitEvent } from '@stratus/db';
import type { AuthContext } from '../identity/types.ts';
import { cidrsOverlap, normalizeIp, parseCidr } from './cidr.ts';
import {
  db,
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
import { getNetwork } from './networks.ts';
import { authorize, authorizeRead, isAdmin } from './policy.ts';
import { createPortTx, deletePortTx, getPort, withPortRetry } from './ports.ts';
import { checkQuota } from './quotas.ts';

export interface GatewayInfo {
  networkId: string;
  enableSnat: boolean;
  externalFixedIps: { subnetId: string; ip: string }[];
}
export type FloatingIpRecord = FloatingIp;
export type RouterRecord = Router & { interfaces: RouterInterface[]; gateway: GatewayInfo | null };

const RouteIn = z.object({ destination: z.string(), nexthop: z.string() });
// `router unset --external-gateway` sends {} : Neutron reads an empty gateway as "none".
const GatewayIn = z.preprocess(
  (v) => (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0 ? null : v),
  z
    .object({
      network_id: z.string(),
      enable_snat: z.boolean().optional(),
      external_fixed_ips: z
        .array(z.object({ subnet_id: z.string().optional(), ip_address: z.string().optional() }))
        .optional(),
    })
    .nullable(),
);

export const RouterInput = z.object({
  name: z.string().max(255).default(''),
  description: z.string().max(255).default(''),
  admin_state_up: z.boolean().default(true),
  external_gateway_info: GatewayIn.optional(),
  project_id: z.string().optional(),
  tenant_id: z.string().optional(),
  distributed: z.boolean().optional(),
  ha: z.boolean().optional(),
  availability_zone_hints: z.array(z.string()).optional(),
});
export const RouterUpdate = z.object({
  name: z.string().max(255).optional(),
  description: z.string().max(255).optional(),
  admin_state_up: z.boolean().optional(),
  external_gateway_info: GatewayIn.optional(),
  routes: z.array(RouteIn).optional(),
});

async function toRecord(tx: Pick<Tx, 'port'>, r: Router & { interfaces: RouterInterface[] }): Promise<RouterRecord> {
  let gateway: GatewayInfo | null = null;
  if (r.gatewayPortId && r.gatewayNetworkId) {
    const gp = await tx.port.findUnique({ where: { id: r.gatewayPortId }, include: { fixedIps: true } });
    gateway = {
      networkId: r.gatewayNetworkId,
      enableSnat: r.enableSnat,
      externalFixedIps: (gp?.fixedIps ?? []).map((f) => ({ subnetId: f.subnetId, ip: f.ip })),
    };
  }
  return { ...r, gateway };
}

export function routesOf(r: Pick<Router, 'routes'>): { destination: string; nexthop: string }[] {
  const p = z.array(RouteIn).safeParse(r.routes);
  return p.success ? p.data : [];
}

async function setGateway(
  tx: Tx,
  ctx: AuthContext,
  router: Router,
  gw: z.infer<typeof GatewayIn> | undefined,
): Promise<void> {
  if (gw === undefined) return;
  const current = router.gatewayNetworkId;
  if (gw === null || (current && current !== gw.network_id)) {
    if (router.gatewayPortId) {
      const fips = await tx.floatingIp.count({ where: { routerId: router.id } });
      if (fips > 0 && gw === null)
        throw nConflict(
          'RouterExternalGatewayInUseByFloatingIp',
          `Gateway cannot be updated for router ${router.id}, since a gateway to external network ${current} is required by one or more floating IPs.`,
        );
      await tx.router.update({ where: { id: router.id }, data: { gatewayPortId: null, gatewayNetworkId: null } });
      await deletePortTx(tx, router.gatewayPortId);
    }
    if (gw === null) return;
  }
  if (gw.enable_snat === false)
    authorize(ctx, 'update_router:external_gateway_info:enable_snat', { project_id: router.projectId });
  if (gw.external_fixed_ips)
    authorize(ctx, 'create_router:external_gateway_info:external_fixed_ips', { project_id: router.projectId });
  const snat = gw.enable_snat ?? true;
  if (current === gw.network_id) {
    await tx.router.update({ where: { id: router.id }, data: { enableSnat: snat } });
    return;
  }
  const net = await tx.network.findUnique({
    where: { id: isUuid(gw.network_id) ? gw.network_id : '00000000-0000-0000-0000-000000000000' },
  });
  if (!net) throw nNotFound('NetworkNotFound', `Network ${gw.network_id} could not be found.`);
  if (!net.external) throw nBadRequest(`Bad router request: Network ${net.id} is not an external network.`);
  const port = await createPortTx(tx, {
    networkId: net.id,
    projectId: '',
    deviceOwner: 'network:router_gateway',
    deviceId: router.id,
    securityGroupIds: [],
    portSecurityEnabled: false,
    fixedIps: gw.external_fixed_ips?.map((f) => ({ subnetId: f.subnet_id, ipAddress: f.ip_address })),
  });
  await tx.router.update({
    where: { id: router.id },
    data: { gatewayPortId: port.id, gatewayNetworkId: net.id, enableSnat: snat },
  });
}

export async function createRouter(
  ctx: AuthContext,
  input: z.input<typeof RouterInput> | Record<string, unknown>,
): Promise<RouterRecord> {
  const v = parseNeutronInput(RouterInput, input);
  const projectId = v.project_id ?? v.tenant_id ?? projectOf(ctx);
  authorize(ctx, 'create_router', { project_id: projectId });
  const id = await withPortRetry(async (tx) => {
    await checkQuota(tx, projectId, 'router');
    const r = await tx.router.create({
      data: { projectId, name: v.name, description: v.description, adminStateUp: v.admin_state_up },
    });
    await setGateway(tx, ctx, r, v.external_gateway_info);
    await requestSync(tx, `router ${r.id} created`);
    await emitNetworkEvent(tx, 'router', 'created', projectId, r.id);
    return r.id;
  });
  return getRouter(ctx, id);
}

export async function listRouters(
  ctx: AuthContext,
  f: { ids?: string[]; names?: string[]; projectId?: string; marker?: string; limit?: number } = {},
): Promise<RouterRecord[]> {
  const rows = await db().router.findMany({
    where: {
      ...(isAdmin(ctx) ? {} : { projectId: ctx.projectId ?? '' }),
      ...(f.ids ? { id: { in: f.ids.filter(isUuid) } } : {}),
      ...(f.names ? { name: { in: f.names } } : {}),
      ...(f.projectId ? { projectId: f.projectId } : {}),
    },
    include: { interfaces: true },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    ...pageArgs(f.marker, f.limit),
  });
  return Promise.all(rows.map((r) => toRecord(db(), r)));
}

export async function getRouter(ctx: AuthContext, id: string): Promise<RouterRecord> {
  const what = `Router ${id} could not be found`;
  const r = isUuid(id) ? await db().router.findUnique({ where: { id }, include: { interfaces: true } }) : null;
  if (!r) throw nNotFound('RouterNotFound', what);
  authorizeRead(ctx, 'get_router', { project_id: r.projectId, tenant_id: r.projectId }, what);
  return toRecord(db(), r);
}

export async function updateRouter(
  ctx: AuthContext,
  id: string,
  input: z.input<typeof RouterUpdate> | Record<string, unknown>,
): Promise<RouterRecord> {
  const v = parseNeutronInput(RouterUpdate, input);
  const r = await getRouter(ctx, id);
  authorize(ctx, 'update_router', { project_id: r.projectId });
  const routes = v.routes?.map((x) => {
    const d = parseCidr(x.destination);
    const n = normalizeIp(x.nexthop);
    if (!d || !n) throw nBadRequest(`Invalid route ${x.destination} via ${x.nexthop}.`);
    return { destination: x.destination, nexthop: n };
  });
  await withPortRetry(async (tx) => {
    const row = await tx.router.update({
      where: { id },
      data: { name: v.name, description: v.description, adminStateUp: v.admin_state_up, routes },
    });
    await setGateway(tx, ctx, row, v.external_gateway_info);
    await requestSync(tx, `router ${id} updated`);
    await emitNetworkEvent(tx, 'router', 'updated', r.projectId, id);
  });
  return getRouter(ctx, id);
}

export async function deleteRouter(ctx: AuthContext, id: string): Promise<void> {
  const r = await getRouter(ctx, id);
  authorize(ctx, 'delete_router', { project_id: r.projectId });
  await transaction(async (tx) => {
    if (r.interfaces.length > 0) throw nConflict('RouterInUse', `Router ${id} still has ports`);
    if ((await tx.floatingIp.count({ where: { routerId: id } })) > 0)
      throw nConflict('RouterInUse', `Router ${id} still has floating IPs`);
    await tx.router.delete({ where: { id } });
    if (r.gatewayPortId) await deletePortTx(tx, r.gatewayPortId);
    await requestSync(tx, `router ${id} deleted`);
    await emitNetworkEvent(tx, 'router', 'deleted', r.projectId, id);
  });
}

export interface InterfaceInfo {
  id: string;
  subnetId: string;
  subnetIds: string[];
  portId: string;
  networkId: string;
  projectId: string;
}

export async function addRouterInterface(
  ctx: AuthContext,
  id: string,
  input: { subnet_id?: string; port_id?: string },
): Promise<InterfaceInfo> {
  const r = await getRouter(ctx, id);
  authorize(ctx, 'add_router_interface', { project_id: r.projectId });
  if (!!input.subnet_id === !!input.port_id)
    throw nBadRequest('Bad router request: Either subnet_id or port_id must be specified.');
  return withPortRetry(async (tx) => {
    await tx.$queryRaw`SELECT id FROM "Router" WHERE id = ${id}::uuid FOR UPDATE`;
    let portId: string;
    let subnetId: string;
    if (input.subnet_id) {
      const s = isUuid(input.subnet_id)
        ? await tx.subnet.findUnique({ where: { id: input.subnet_id }, include: { network: true } })
        : null;
      if (!s || (!isAdmin(ctx) && s.projectId !== r.projectId && !s.network.shared))
        throw nNotFound('SubnetNotFound', `Subnet ${input.subnet_id} could not be found.`);
      if (s.network.external)
        throw nBadRequest(`Bad router request: Router interfaces cannot be on the external network ${s.networkId}.`);
      if (!s.gatewayIp) throw nBadRequest(`Bad router request: Subnet ${s.id} does not have a gateway IP.`);
      subnetId = s.id;
      await checkOverlap(tx, id, s.cidr, s.id);
      const port = await createPortTx(tx, {
        networkId: s.networkId,
        projectId: r.projectId,
        deviceOwner: 'network:router_interface',
        deviceId: id,
        fixedIps: [{ subnetId: s.id, ipAddress: s.gatewayIp }],
        securityGroupIds: [],
        portSecurityEnabled: false,
      });
      portId = port.id;
    } else {
      const port = await getPort(ctx, input.port_id ?? '');
      if (port.deviceOwner || port.deviceId)
        throw nConflict(
          'PortInUse',
          `Unable to complete operation on port ${port.id} for network ${port.networkId}. Port already has an attached device ${port.deviceId}.`,
        );
      const first = port.fixedIps[0];
      if (!first) throw nBadRequest(`Bad router request: Router port must have at least one fixed IP.`);
      const s = await tx.subnet.findUniqueOrThrow({ where: { id: first.subnetId } });
      await checkOverlap(tx, id, s.cidr, s.id);
      await tx.portSecurityGroup.deleteMany({ where: { portId: port.id } });
      await tx.port.update({
        where: { id: port.id },
        data: { deviceOwner: 'network:router_interface', deviceId: id, portSecurityEnabled: false, status: 'ACTIVE' },
      });
      portId = port.id;
      subnetId = s.id;
    }
    await tx.routerInterface.create({ data: { routerId: id, portId, subnetId } });
    await requestSync(tx, `router ${id} interface added`);
    await emitNetworkEvent(tx, 'router', 'updated', r.projectId, id);
    const port = await tx.port.findUniqueOrThrow({ where: { id: portId } });
    return { id, subnetId, subnetIds: [subnetId], portId, networkId: port.networkId, projectId: r.projectId };
  });
}

async function checkOverlap(tx: Tx, routerId: string, cidr: string, subnetId: string): Promise<void> {
  const mine = parseCidr(cidr);
  const existing = await tx.routerInterface.findMany({ where: { routerId } });
  for (const i of existing) {
    if (i.subnetId === subnetId)
      throw nBadRequest(`Bad router request: Router already has a port on subnet ${subnetId}.`);
    const other = await tx.subnet.findUnique({ where: { id: i.subnetId } });
    const oc = other ? parseCidr(other.cidr) : null;
    if (mine && oc && cidrsOverlap(mine, oc))
      throw nBadRequest(
        `Bad router request: Cidr ${cidr} of subnet ${subnetId} overlaps with cidr ${other?.cidr} of subnet ${other?.id}.`,
      );
  }
}

export async function removeRouterInterface(
  ctx: AuthContext,
  id: string,
  input: { subnet_id?: string; port_id?: string },
): Promise<InterfaceInfo> {
  const r = await getRouter(ctx, id);
  authorize(ctx, 'remove_router_interface', { project_id: r.projectId });
  const iface = r.interfaces.find((i) => (input.port_id ? i.portId === input.port_id : i.subnetId === input.subnet_id));
  if (!iface) {
    if (input.port_id)
      throw nNotFound('RouterInterfaceNotFound', `Router ${id} does not have an interface with id ${input.port_id}`);
    throw nNotFound('RouterInterfaceNotFoundForSubnet', `Router ${id} has no interface on subnet ${input.subnet_id}`);
  }
  return transaction(async (tx) => {
    const fips = await tx.floatingIp.findMany({ where: { routerId: id, portId: { not: null } } });
    for (const f of fips) {
      const fixed = await tx.portFixedIp.findFirst({ where: { portId: f.portId ?? '', subnetId: iface.subnetId } });
      if (fixed)
        throw nConflict(
          'RouterInterfaceInUseByFloatingIP',
          `Router interface for subnet ${iface.subnetId} on router ${id} cannot be deleted, as it is required by one or more floating IPs.`,
        );
    }
    const port = await tx.port.findUniqueOrThrow({ where: { id: iface.portId } });
    await tx.routerInterface.delete({ where: { portId: iface.portId } });
    await deletePortTx(tx, iface.portId);
    await requestSync(tx, `router ${id} interface removed`);
    await emitNetworkEvent(tx, 'router', 'updated', r.projectId, id);
    return {
      id,
      subnetId: iface.subnetId,
      subnetIds: [iface.subnetId],
      portId: iface.portId,
      networkId: port.networkId,
      projectId: r.projectId,
    };
  });
}

// ---------------------------------------------------------------- floating IPs

export const FloatingIpInput = z.object({
  floating_network_id: z.string(),
  port_id: z.string().nullish(),
  fixed_ip_address: z.string().nullish(),
  floating_ip_address: z.string().optional(),
  subnet_id: z.string().optional(),
  description: z.string().max(255).default(''),
  project_id: z.string().optional(),
  tenant_id: z.string().optional(),
});
export const FloatingIpUpdate = z.object({
  port_id: z.string().nullish(),
  fixed_ip_address: z.string().nullish(),
  description: z.string().max(255).optional(),
});

/** Finds the router that connects the port's subnet to the floating network. */
async function association(
  tx: Tx,
  ctx: AuthContext,
  projectId: string,
  floatingNetworkId: string,
  portId: string,
  fixedIp: string | null | undefined,
) {
  const port = await tx.port.findUnique({
    where: { id: isUuid(portId) ? portId : '00000000-0000-0000-0000-000000000000' },
    include: { fixedIps: true },
  });
  if (!port || (port.projectId !== projectId && !isAdmin(ctx)))
    throw nNotFound('PortNotFound', `Port ${portId} could not be found.`);
  const want = fixedIp ? normalizeIp(fixedIp) : null;
  const fixed = want ? port.fixedIps.find((f) => f.ip === want) : port.fixedIps.find((f) => !f.ip.includes(':'));
  if (!fixed)
    throw nBadRequest(`Bad floatingip request: Port ${portId} does not have fixed ip ${fixedIp ?? '(IPv4)'}.`);
  const iface = await tx.routerInterface.findFirst({
    where: { subnetId: fixed.subnetId, router: { gatewayNetworkId: floatingNetworkId } },
  });
  if (!iface)
    throw nNotFound(
      'ExternalGatewayForFloatingIPNotFound',
      `External network ${floatingNetworkId} is not reachable from subnet ${fixed.subnetId}. Therefore, cannot associate Port ${portId} with a Floating IP.`,
    );
  const taken = await tx.floatingIp.findFirst({ where: { portId: port.id, fixedIp: fixed.ip } });
  return { portId: port.id, fixedIp: fixed.ip, routerId: iface.routerId, taken };
}

export async function createFloatingIp(
  ctx: AuthContext,
  input: z.input<typeof FloatingIpInput> | Record<string, unknown>,
): Promise<FloatingIp> {
  const v = parseNeutronInput(FloatingIpInput, input);
  const projectId = v.project_id ?? v.tenant_id ?? projectOf(ctx);
  authorize(ctx, 'create_floatingip', { project_id: projectId });
  if (v.floating_ip_address) authorize(ctx, 'create_floatingip:floating_ip_address', { project_id: projectId });
  const net = await getNetwork(ctx, v.floating_network_id);
  if (!net.external) throw nBadRequest(`Bad floatingip request: Network ${net.id} is not a valid external network.`);
  const created = await withPortRetry(async (tx) => {
    await checkQuota(tx, projectId, 'floatingip');
    const id = crypto.randomUUID();
    const port = await createPortTx(tx, {
      networkId: net.id,
      projectId: '',
      deviceOwner: 'network:floatingip',
      deviceId: id,
      securityGroupIds: [],
      portSecurityEnabled: false,
      fixedIps:
        v.floating_ip_address || v.subnet_id
          ? [{ ipAddress: v.floating_ip_address, subnetId: v.subnet_id }]
          : undefined,
    });
    const addr = port.fixedIps.find((f) => !f.ip.includes(':')) ?? port.fixedIps[0];
    if (!addr) throw nConflict('IpAddressGenerationFailure', `No more IP addresses available on network ${net.id}.`);
    const a = v.port_id ? await association(tx, ctx, projectId, net.id, v.port_id, v.fixed_ip_address) : null;
    if (a?.taken)
      throw nConflict(
        'FloatingIPPortAlreadyAssociated',
        `Cannot associate floating IP with port ${a.portId} using fixed IP ${a.fixedIp}, as that fixed IP already has a floating IP.`,
      );
    const fip = await tx.floatingIp.create({
      data: {
        id,
        projectId,
        floatingNetworkId: net.id,
        floatingIp: addr.ip,
        floatingPortId: port.id,
        portId: a?.portId ?? null,
        fixedIp: a?.fixedIp ?? null,
        routerId: a?.routerId ?? null,
        description: v.description,
        status: 'DOWN',
      },
    });
    await requestSync(tx, `floating ip ${id} created`);
    await emitNetworkEvent(tx, 'floatingip', 'created', projectId, id);
    return fip;
  });
  return created;
}

export async function listFloatingIps(
  ctx: AuthContext,
  f: {
    ids?: string[];
    addresses?: string[];
    portIds?: string[];
    routerIds?: string[];
    networkIds?: string[];
    projectId?: string;
    marker?: string;
    limit?: number;
  } = {},
): Promise<FloatingIp[]> {
  return db().floatingIp.findMany({
    where: {
      ...(isAdmin(ctx) ? {} : { projectId: ctx.projectId ?? '' }),
      ...(f.ids ? { id: { in: f.ids.filter(isUuid) } } : {}),
      ...(f.addresses ? { floatingIp: { in: f.addresses } } : {}),
      ...(f.portIds ? { portId: { in: f.portIds.filter(isUuid) } } : {}),
      ...(f.routerIds ? { routerId: { in: f.routerIds.filter(isUuid) } } : {}),
      ...(f.networkIds ? { floatingNetworkId: { in: f.networkIds.filter(isUuid) } } : {}),
      ...(f.projectId ? { projectId: f.projectId } : {}),
    },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    ...pageArgs(f.marker, f.limit),
  });
}

export async function getFloatingIp(ctx: AuthContext, id: string): Promise<FloatingIp> {
  const what = `Floating IP ${id} could not be found`;
  const f = isUuid(id) ? await db().floatingIp.findUnique({ where: { id } }) : null;
  if (!f) throw nNotFound('FloatingIPNotFound', what);
  authorizeRead(ctx, 'get_floatingip', { project_id: f.projectId, tenant_id: f.projectId }, what);
  return f;
}

export async function updateFloatingIp(
  ctx: AuthContext,
  id: string,
  input: z.input<typeof FloatingIpUpdate> | Record<string, unknown>,
): Promise<FloatingIp> {
  const v = parseNeutronInput(FloatingIpUpdate, input);
  const f = await getFloatingIp(ctx, id);
  authorize(ctx, 'update_floatingip', { project_id: f.projectId });
  return transaction(async (tx) => {
    let data: {
      portId?: string | null;
      fixedIp?: string | null;
      routerId?: string | null;
      status?: string;
      description?: string;
    } = {
      description: v.description,
    };
    if (v.port_id === null) data = { ...data, portId: null, fixedIp: null, routerId: null, status: 'DOWN' };
    else if (v.port_id !== undefined) {
      const a = await association(tx, ctx, f.projectId, f.floatingNetworkId, v.port_id, v.fixed_ip_address);
      if (a.taken && a.taken.id !== id)
        throw nConflict(
          'FloatingIPPortAlreadyAssociated',
          `Cannot associate floating IP ${f.floatingIp} with port ${a.portId} using fixed IP ${a.fixedIp}, as that fixed IP already has a floating IP on external network ${f.floatingNetworkId}.`,
        );
      data = { ...data, portId: a.portId, fixedIp: a.fixedIp, routerId: a.routerId };
    }
    const updated = await tx.floatingIp.update({ where: { id }, data });
    await requestSync(tx, `floating ip ${id} updated`);
    await emitEvent(tx, {
      type: 'floatingip.updated',
      projectId: f.projectId,
      resourceId: id,
      data: { portId: updated.portId, fixedIp: updated.fixedIp, floatingIp: updated.floatingIp },
    });
    return updated;
  });
}

export async function deleteFloatingIp(ctx: AuthContext, id: string): Promise<void> {
  const f = await getFloatingIp(ctx, id);
  authorize(ctx, 'delete_floatingip', { project_id: f.projectId });
  await transaction(async (tx) => {
    await tx.floatingIp.delete({ where: { id } });
    await tx.port.deleteMany({ where: { id: f.floatingPortId } });
    await requestSync(tx, `floating ip ${id} deleted`);
    await emitNetworkEvent(tx, 'floatingip', 'deleted', f.projectId, id);
  });
}
