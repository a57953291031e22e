import type { Port, PortFixedIp, Tx } from '@stratus/db';
import { z } from 'zod';
import type { AuthContext } from '../identity/types.ts';
import { normalizeIp } from './cidr.ts';
import {
  db,
  isUniqueViolation,
  isUuid,
  nBadRequest,
  nConflict,
  nNotFound,
  projectOf,
  randomMac,
  requestSync,
  transaction,
  parseNeutronInput,
  emitNetworkEvent,
} from './common.ts';
import { allocate, lockSubnets, type IpRequest } from './ipam.ts';
import { getNetwork } from './networks.ts';
import { authorize, authorizeRead, isAdmin, tf } from './policy.ts';
import { checkQuota } from './quotas.ts';
import { ensureDefaultSecurityGroup } from './secgroups.ts';

export type PortRecord = Port & { fixedIps: PortFixedIp[]; securityGroups: { securityGroupId: string }[] };
export interface AddressPair {
  ip_address: string;
  mac_address?: string;
}

const include = { fixedIps: true, securityGroups: { select: { securityGroupId: true } } } as const;
const MAC_RE = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;

const FixedIpIn = z.object({ subnet_id: z.string().optional(), ip_address: z.string().optional() });
const PairIn = z.object({ ip_address: z.string(), mac_address: z.string().optional() });

export const PortInput = z.object({
  network_id: z.string(),
  name: z.string().max(255).default(''),
  description: z.string().max(255).default(''),
  admin_state_up: z.boolean().default(true),
  mac_address: z.string().optional(),
  fixed_ips: z.array(FixedIpIn).optional(),
  device_id: z.string().max(255).default(''),
  device_owner: z.string().max(255).default(''),
  security_groups: z.array(z.string()).optional(),
  port_security_enabled: z.boolean().optional(),
  allowed_address_pairs: z.array(PairIn).default([]),
  'binding:host_id': z.string().max(255).optional(),
  'binding:vnic_type': z.string().optional(),
  project_id: z.string().optional(),
  tenant_id: z.string().optional(),
});
export type PortInput = z.input<typeof PortInput>;

export const PortUpdate = z.object({
  name: z.string().max(255).optional(),
  description: z.string().max(255).optional(),
  admin_state_up: z.boolean().optional(),
  fixed_ips: z.array(FixedIpIn).optional(),
  device_id: z.string().max(255).optional(),
  device_owner: z.string().max(255).optional(),
  security_groups: z.array(z.string()).optional(),
  port_security_enabled: z.boolean().optional(),
  allowed_address_pairs: z.array(PairIn).optional(),
  'binding:host_id': z.string().max(255).optional(),
});

function toRequests(fixed: z.infer<typeof FixedIpIn>[] | undefined): IpRequest[] | undefined {
  return fixed?.map((f) => ({ subnetId: f.subnet_id, ipAddress: f.ip_address }));
}

function checkPairs(pairs: AddressPair[]): AddressPair[] {
  return pairs.map((p) => {
    const ip = p.ip_address.includes('/') ? p.ip_address : normalizeIp(p.ip_address);
    if (!ip) throw nBadRequest(`Invalid input for allowed_address_pairs: '${p.ip_address}' is not a valid IP address.`);
    const mac = p.mac_address?.toLowerCase();
    if (mac !== undefined && !MAC_RE.test(mac)) throw nBadRequest(`'${p.mac_address}' is not a valid MAC address.`);
    return mac ? { ip_address: ip, mac_address: mac } : { ip_address: ip };
  });
}

/** Network-internal owners (DHCP, routers, floating IPs) get no security groups. */
const isNetworkOwned = (owner: string) => owner.startsWith('network:');

export interface CreatePortTxInput {
  networkId: string;
  projectId: string;
  name?: string;
  description?: string;
  adminStateUp?: boolean;
  mac?: string;
  fixedIps?: IpRequest[];
  deviceOwner?: string;
  deviceId?: string;
  /** undefined: the project's default group (unless network-owned or security off). */
  securityGroupIds?: string[];
  portSecurityEnabled?: boolean;
  allowedAddressPairs?: AddressPair[];
  bindingHost?: string;
  status?: string;
}

/** Creates a port and its addresses inside the caller's transaction; no policy checks. */
export async function createPortTx(tx: Tx, p: CreatePortTxInput): Promise<PortRecord> {
  const net = await tx.network.findUnique({ where: { id: p.networkId } });
  if (!net) throw nNotFound('NetworkNotFound', `Network ${p.networkId} could not be found.`);
  const owner = p.deviceOwner ?? '';
  const security = p.portSecurityEnabled ?? net.portSecurityEnabled;
  let groups = p.securityGroupIds;
  if (groups === undefined)
    groups = security && !isNetworkOwned(owner) ? [(await ensureDefaultSecurityGroup(tx, p.projectId)).id] : [];
  if (!security && groups.length > 0)
    throw nConflict(
      'PortSecurityAndIPRequiredForSecurityGroups',
      'Port security must be enabled and port must have an IP address in order to use security groups.',
    );
  if (groups.length > 0) {
    const found = await tx.securityGroup.findMany({ where: { id: { in: groups.filter(isUuid) } } });
    for (const g of groups) {
      const sg = found.find((f) => f.id === g);
      if (!sg || (sg.projectId !== p.projectId && !net.shared && sg.projectId !== net.projectId))
        throw nNotFound('SecurityGroupNotFound', `Security group ${g} does not exist`);
    }
  }
  const subnets = await lockSubnets(tx, net.id);
  // The MAC comes first: auto-address IPv6 subnets derive the port's address from it.
  const mac = p.mac ?? randomMac();
  const allocations = await allocate(tx, net.id, subnets, p.fixedIps, { mac, deviceOwner: owner });
  const port = await tx.port.create({
    data: {
      networkId: net.id,
      projectId: p.projectId,
      name: p.name ?? '',
      description: p.description ?? '',
      adminStateUp: p.adminStateUp ?? true,
      macAddress: mac,
      deviceOwner: owner,
      deviceId: p.deviceId ?? '',
      bindingHost: p.bindingHost ?? '',
      portSecurityEnabled: security,
      allowedAddressPairs: (p.allowedAddressPairs ?? []).map((a) => ({ ...a })),
      status: p.status ?? (isNetworkOwned(owner) ? 'ACTIVE' : 'DOWN'),
      fixedIps: { create: allocations.map((a) => ({ subnetId: a.subnetId, ip: a.ip })) },
      securityGroups: { create: [...new Set(groups)].map((securityGroupId) => ({ securityGroupId })) },
    },
    include,
  });
  return port;
}

/** Runs `fn` in a transaction, retrying when a random MAC collided; maps unique violations. */
export async function withPortRetry<T>(fn: (tx: Tx) => Promise<T>, userMac?: string): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await transaction(fn);
    } catch (err) {
      if (isUniqueViolation(err, 'macAddress')) {
        if (userMac)
          throw nConflict(
            'MacAddressInUse',
            `Unable to complete operation for network. The mac address ${userMac} is in use.`,
          );
        if (attempt < 5) continue;
      }
      if (isUniqueViolation(err, 'ip'))
        throw nConflict('IpAddressAlreadyAllocated', 'IP address already allocated in subnet.');
      throw err;
    }
  }
}

export async function createPort(ctx: AuthContext, input: PortInput | Record<string, unknown>): Promise<PortRecord> {
  const v = parseNeutronInput(PortInput, input);
  const net = await getNetwork(ctx, v.network_id);
  const projectId = v.project_id ?? v.tenant_id ?? projectOf(ctx);
  const target = {
    project_id: projectId,
    tenant_id: projectId,
    network_project_id: net.projectId,
    shared: tf(net.shared),
    external: tf(net.external),
  };
  authorize(ctx, 'create_port', target);
  authorize(ctx, 'create_port:on_foreign_network', target);
  if (v.fixed_ips?.some((f) => f.ip_address !== undefined)) authorize(ctx, 'create_port:fixed_ips:ip_address', target);
  if (v.mac_address !== undefined) authorize(ctx, 'create_port:mac_address', target);
  if (v.device_owner && !v.device_owner.startsWith('compute:')) authorize(ctx, 'create_port:device_owner', target);
  if (v['binding:host_id']) authorize(ctx, 'create_port:binding:host_id', target);
  if (v.port_security_enabled === false) authorize(ctx, 'create_port:port_security_enabled', target);
  if (v.allowed_address_pairs.length > 0) authorize(ctx, 'create_port:allowed_address_pairs', target);
  const mac = v.mac_address?.toLowerCase();
  if (mac !== undefined && !MAC_RE.test(mac))
    throw nBadRequest(`Invalid input for mac_address: '${v.mac_address}' is not a valid MAC address.`);
  const pairs = checkPairs(v.allowed_address_pairs);
  return withPortRetry(async (tx) => {
    await checkQuota(tx, projectId, 'port');
    const port = await createPortTx(tx, {
      networkId: net.id,
      projectId,
      name: v.name,
      description: v.description,
      adminStateUp: v.admin_state_up,
      mac,
      fixedIps: toRequests(v.fixed_ips),
      deviceOwner: v.device_owner,
      deviceId: v.device_id,
      securityGroupIds: v.security_groups,
      portSecurityEnabled: v.port_security_enabled,
      allowedAddressPairs: pairs,
      bindingHost: v['binding:host_id'],
    });
    await requestSync(tx, `port ${port.id} created`);
    await emitNetworkEvent(tx, 'port', 'created', port.projectId, port.id);
    return port;
  }, mac);
}

export interface PortFilter {
  ids?: string[];
  names?: string[];
  networkIds?: string[];
  deviceIds?: string[];
  deviceOwners?: string[];
  macAddresses?: string[];
  projectId?: string;
  status?: string;
  fixedIp?: string;
  subnetId?: string;
}

export async function listPorts(ctx: AuthContext, f: PortFilter = {}): Promise<PortRecord[]> {
  const admin = isAdmin(ctx);
  return db().port.findMany({
    where: {
      AND: [
        admin ? {} : { OR: [{ projectId: ctx.projectId ?? '' }, { network: { projectId: ctx.projectId ?? '' } }] },
        f.ids ? { id: { in: f.ids.filter(isUuid) } } : {},
        f.names ? { name: { in: f.names } } : {},
        f.networkIds ? { networkId: { in: f.networkIds.filter(isUuid) } } : {},
        f.deviceIds ? { deviceId: { in: f.deviceIds } } : {},
        f.deviceOwners ? { deviceOwner: { in: f.deviceOwners } } : {},
        f.macAddresses ? { macAddress: { in: f.macAddresses.map((m) => m.toLowerCase()) } } : {},
        f.projectId ? { projectId: f.projectId } : {},
        f.status ? { status: f.status } : {},
        f.fixedIp || f.subnetId
          ? {
              fixedIps: {
                some: {
                  ...(f.fixedIp ? { ip: f.fixedIp } : {}),
                  ...(f.subnetId && isUuid(f.subnetId) ? { subnetId: f.subnetId } : {}),
                },
              },
            }
          : {},
      ],
    },
    include,
    orderBy: { createdAt: 'asc' },
  });
}

export async function getPort(ctx: AuthContext, id: string): Promise<PortRecord> {
  const what = `Port ${id} could not be found.`;
  const p = isUuid(id) ? await db().port.findUnique({ where: { id }, include: { ...include, network: true } }) : null;
  if (!p) throw nNotFound('PortNotFound', what);
  const ownNet = ctx.projectId !== null && p.network.projectId === ctx.projectId;
  if (!ownNet) authorizeRead(ctx, 'get_port', { project_id: p.projectId, tenant_id: p.projectId }, what);
  const { network: _n, ...row } = p;
  return row;
}

export async function updatePort(
  ctx: AuthContext,
  id: string,
  input: z.input<typeof PortUpdate> | Record<string, unknown>,
): Promise<PortRecord> {
  const v = parseNeutronInput(PortUpdate, input);
  const port = await getPort(ctx, id);
  const net = await getNetwork(ctx, port.networkId).catch(() => null);
  const target = {
    project_id: port.projectId,
    network_project_id: net?.projectId ?? port.projectId,
    shared: tf(!!net?.shared),
    external: tf(!!net?.external),
  };
  authorize(ctx, 'update_port', target);
  if (v['binding:host_id'] !== undefined) authorize(ctx, 'update_port:binding:host_id', target);
  if (v.fixed_ips?.some((f) => f.ip_address !== undefined)) authorize(ctx, 'create_port:fixed_ips:ip_address', target);
  const pairs = v.allowed_address_pairs ? checkPairs(v.allowed_address_pairs) : undefined;
  await withPortRetry(async (tx) => {
    const security = v.port_security_enabled ?? port.portSecurityEnabled;
    let groups = v.security_groups;
    if (v.port_security_enabled === false && groups === undefined && port.securityGroups.length > 0)
      throw nConflict(
        'PortSecurityPortHasSecurityGroup',
        'Port has security group associated. Cannot disable port security or ip address until security group is removed.',
      );
    if (!security && groups && groups.length > 0)
      throw nConflict(
        'PortSecurityAndIPRequiredForSecurityGroups',
        'Port security must be enabled and port must have an IP address in order to use security groups.',
      );
    if (groups) {
      groups = [...new Set(groups)];
      const found = await tx.securityGroup.findMany({ where: { id: { in: groups.filter(isUuid) } } });
      for (const g of groups)
        if (!found.some((f) => f.id === g && (f.projectId === port.projectId || isAdmin(ctx))))
          throw nNotFound('SecurityGroupNotFound', `Security group ${g} does not exist`);
      await tx.portSecurityGroup.deleteMany({ where: { portId: id } });
      await tx.portSecurityGroup.createMany({
        data: groups.map((securityGroupId) => ({ portId: id, securityGroupId })),
      });
    }
    if (v.fixed_ips) {
      const subnets = await lockSubnets(tx, port.networkId);
      const keep = v.fixed_ips.filter(
        (f) => f.ip_address !== undefined && port.fixedIps.some((x) => x.ip === normalizeIp(f.ip_address ?? '')),
      );
      const keepIps = new Set(keep.map((k) => normalizeIp(k.ip_address ?? '')));
      await tx.portFixedIp.deleteMany({
        where: { portId: id, ip: { notIn: [...keepIps].filter((x): x is string => !!x) } },
      });
      const fresh = v.fixed_ips.filter((f) => !keep.includes(f));
      const allocations = await allocate(tx, port.networkId, subnets, toRequests(fresh), {
        mac: port.macAddress,
        deviceOwner: v.device_owner ?? port.deviceOwner,
        keepSubnetIds: port.fixedIps.filter((f) => keepIps.has(f.ip)).map((f) => f.subnetId),
      });
      if (allocations.length) await tx.portFixedIp.createMany({ data: allocations.map((a) => ({ portId: id, ...a })) });
    }
    await tx.port.update({
      where: { id },
      data: {
        name: v.name,
        description: v.description,
        adminStateUp: v.admin_state_up,
        deviceId: v.device_id,
        deviceOwner: v.device_owner,
        bindingHost: v['binding:host_id'],
        portSecurityEnabled: v.port_security_enabled,
        allowedAddressPairs: pairs?.map((a) => ({ ...a })),
      },
    });
    await requestSync(tx, `port ${id} updated`);
    await emitNetworkEvent(tx, 'port', 'updated', port.projectId, id);
  });
  return getPort(ctx, id);
}

/** Deletes a port in the caller's transaction: floating IPs pointing at it are disassociated. */
export async function deletePortTx(tx: Tx, id: string): Promise<void> {
  await tx.floatingIp.updateMany({
    where: { portId: id },
    data: { portId: null, fixedIp: null, routerId: null, status: 'DOWN' },
  });
  await tx.port.delete({ where: { id } });
}

export async function deletePort(ctx: AuthContext, id: string): Promise<void> {
  const port = await getPort(ctx, id);
  authorize(ctx, 'delete_port', { project_id: port.projectId });
  if (
    port.deviceOwner === 'network:router_interface' ||
    port.deviceOwner === 'network:router_gateway' ||
    port.deviceOwner === 'network:floatingip'
  )
    throw nConflict(
      'PortInUse',
      `Port ${id} cannot be deleted directly via the port API: has device owner ${port.deviceOwner}.`,
    );
  await transaction(async (tx) => {
    await deletePortTx(tx, id);
    await requestSync(tx, `port ${id} deleted`);
    await emitNetworkEvent(tx, 'port', 'deleted', port.projectId, id);
  });
}
