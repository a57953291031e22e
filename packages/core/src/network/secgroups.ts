import type { Tx } from '@stratus/db';
import type { SecurityGroup, SecurityGroupRule } from '@stratus/db';
import { z } from 'zod';
import type { AuthContext } from '../identity/types.ts';
import { parseCidr, formatCidr } from './cidr.ts';
import {
  db,
  isUniqueViolation,
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
import { authorize, authorizeRead, isAdmin } from './policy.ts';
import { checkQuota } from './quotas.ts';

export type SecurityGroupRecord = SecurityGroup & { rules: SecurityGroupRule[] };

const PROTOCOLS: Record<string, number> = {
  icmp: 1,
  tcp: 6,
  udp: 17,
  icmpv6: 58,
  gre: 47,
  sctp: 132,
  ah: 51,
  esp: 50,
  any: -1,
};

export const RuleInput = z.object({
  security_group_id: z.string(),
  direction: z.enum(['ingress', 'egress']),
  ethertype: z.enum(['IPv4', 'IPv6']).default('IPv4'),
  protocol: z.union([z.string(), z.number().int()]).nullish(),
  port_range_min: z.number().int().nullish(),
  port_range_max: z.number().int().nullish(),
  remote_ip_prefix: z.string().nullish(),
  remote_group_id: z.string().nullish(),
  description: z.string().max(255).default(''),
  project_id: z.string().optional(),
  tenant_id: z.string().optional(),
});
export type RuleInput = z.input<typeof RuleInput>;

export interface NormalizedRule {
  direction: 'ingress' | 'egress';
  ethertype: 'IPv4' | 'IPv6';
  protocol: string | null;
  portRangeMin: number | null;
  portRangeMax: number | null;
  remoteIpPrefix: string | null;
  remoteGroupId: string | null;
}

/** Neutron's rule validation (pure): protocol names/numbers, port ranges, prefixes. */
export function normalizeRule(r: z.output<typeof RuleInput>): NormalizedRule {
  let protocol: string | null = null;
  if (r.protocol !== null && r.protocol !== undefined && r.protocol !== '' && r.protocol !== 'any') {
    const text = String(r.protocol).toLowerCase();
    if (/^\d+$/.test(text)) {
      const n = Number(text);
      if (n > 255)
        throw nBadRequest(
          `Security group rule protocol ${text} not supported. Only protocol values [None, 'tcp', 'udp', 'icmp', 'icmpv6'] and integer representations [0 to 255] are supported.`,
        );
      protocol = text;
    } else if (text in PROTOCOLS) protocol = text === 'ipv6-icmp' ? 'icmpv6' : text;
    else throw nBadRequest(`Security group rule protocol ${text} not supported.`);
  }
  const min = r.port_range_min ?? null;
  const max = r.port_range_max ?? null;
  const ported =
    protocol === 'tcp' || protocol === 'udp' || protocol === '6' || protocol === '17' || protocol === 'sctp';
  const icmp = protocol === 'icmp' || protocol === 'icmpv6' || protocol === '1' || protocol === '58';
  if ((min !== null || max !== null) && !ported && !icmp)
    throw nBadRequest('Must also specify protocol if port range is given.');
  if (ported) {
    if ((min === null) !== (max === null) && min === null) throw nBadRequest('Port range min must be given with max.');
    if (min !== null && (min < 1 || min > 65535)) throw nBadRequest(`Invalid value for port ${min}.`);
    if (max !== null && (max < 1 || max > 65535)) throw nBadRequest(`Invalid value for port ${max}.`);
    if (min !== null && max !== null && min > max)
      throw nBadRequest('For TCP/UDP protocols, port_range_min must be <= port_range_max.');
  }
  if (icmp) {
    if (min !== null && (min < 0 || min > 255))
      throw nBadRequest(`Invalid value for ICMP field (type) ${min}. It must be 0 to 255.`);
    if (max !== null && (max < 0 || max > 255))
      throw nBadRequest(`Invalid value for ICMP field (code) ${max}. It must be 0 to 255.`);
    if (max !== null && min === null)
      throw nBadRequest('ICMP code (port-range-max) is provided but ICMP type (port-range-min) is missing.');
  }
  if (protocol === 'icmpv6' && r.ethertype === 'IPv4')
    throw nBadRequest('Protocol icmpv6 is not supported with ethertype IPv4.');
  let prefix: string | null = null;
  if (r.remote_ip_prefix) {
    const c = parseCidr(r.remote_ip_prefix);
    if (!c) throw nBadRequest(`'${r.remote_ip_prefix}' is not a valid IP prefix.`);
    if ((c.version === 4 ? 'IPv4' : 'IPv6') !== r.ethertype)
      throw nBadRequest(`Conflicting value ethertype ${r.ethertype} for CIDR ${r.remote_ip_prefix}`);
    prefix = formatCidr(c);
  }
  if (prefix && r.remote_group_id) throw nBadRequest('Only remote_ip_prefix or remote_group_id may be provided.');
  return {
    direction: r.direction,
    ethertype: r.ethertype,
    protocol,
    portRangeMin: min,
    portRangeMax: ported && min !== null && max === null ? min : max,
    remoteIpPrefix: prefix,
    remoteGroupId: r.remote_group_id ?? null,
  };
}

/** The project's default group (all egress, ingress from the group), created on first need. */
export async function ensureDefaultSecurityGroup(tx: Tx, projectId: string): Promise<SecurityGroup> {
  const found = await tx.securityGroup.findUnique({ where: { defaultFor: projectId } });
  if (found) return found;
  // Concurrent first uses race for the unique defaultFor: the loser reads the winner's
  // group. ON CONFLICT keeps our transaction usable (no aborted statement).
  const id = crypto.randomUUID();
  const inserted = await tx.$executeRaw`
    INSERT INTO "SecurityGroup" (id, "projectId", name, description, "defaultFor", "updatedAt")
    VALUES (${id}::uuid, ${projectId}, 'default', 'Default security group', ${projectId}, now())
    ON CONFLICT ("defaultFor") DO NOTHING`;
  if (inserted === 1) {
    const rules = [
      { direction: 'egress', ethertype: 'IPv4', remoteGroupId: null },
      { direction: 'egress', ethertype: 'IPv6', remoteGroupId: null },
      { direction: 'ingress', ethertype: 'IPv4', remoteGroupId: id },
      { direction: 'ingress', ethertype: 'IPv6', remoteGroupId: id },
    ];
    await tx.securityGroupRule.createMany({ data: rules.map((r) => ({ ...r, securityGroupId: id, projectId })) });
  }
  return tx.securityGroup.findUniqueOrThrow({ where: { defaultFor: projectId } });
}

const sgTarget = (sg: { projectId: string }) => ({ project_id: sg.projectId, tenant_id: sg.projectId });

export async function listSecurityGroups(
  ctx: AuthContext,
  filter: { ids?: string[]; names?: string[]; projectId?: string; marker?: string; limit?: number } = {},
): Promise<SecurityGroupRecord[]> {
  const admin = isAdmin(ctx);
  if (ctx.projectId) await transaction((tx) => ensureDefaultSecurityGroup(tx, projectOf(ctx)));
  const rows = await db().securityGroup.findMany({
    where: {
      ...(admin ? {} : { projectId: ctx.projectId ?? '' }),
      ...(filter.projectId ? { projectId: filter.projectId } : {}),
      ...(filter.ids ? { id: { in: filter.ids.filter(isUuidish) } } : {}),
      ...(filter.names ? { name: { in: filter.names } } : {}),
    },
    include: { rules: { orderBy: { createdAt: 'asc' } } },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    ...pageArgs(filter.marker, filter.limit),
  });
  return rows;
}

const isUuidish = (s: string) => /^[0-9a-f-]{36}$/i.test(s);

export async function getSecurityGroup(ctx: AuthContext, id: string): Promise<SecurityGroupRecord> {
  const sg = isUuidish(id)
    ? await db().securityGroup.findUnique({ where: { id }, include: { rules: { orderBy: { createdAt: 'asc' } } } })
    : null;
  const what = `Security group ${id} does not exist`;
  if (!sg) throw nNotFound('SecurityGroupNotFound', what);
  authorizeRead(ctx, 'get_security_group', sgTarget(sg), what);
  return sg;
}

export const SecurityGroupInput = z.object({
  name: z.string().max(255).default(''),
  description: z.string().max(255).default(''),
  project_id: z.string().optional(),
  tenant_id: z.string().optional(),
  stateful: z.boolean().optional(),
});

export async function createSecurityGroup(
  ctx: AuthContext,
  input: z.input<typeof SecurityGroupInput> | Record<string, unknown>,
): Promise<SecurityGroupRecord> {
  const v = parseNeutronInput(SecurityGroupInput, input);
  const projectId = v.project_id ?? v.tenant_id ?? projectOf(ctx);
  authorize(ctx, 'create_security_group', { project_id: projectId });
  if (v.name === 'default') {
    return transaction(async (tx) => {
      const existing = await tx.securityGroup.findUnique({ where: { defaultFor: projectId } });
      if (existing) throw nConflict('SecurityGroupDefaultAlreadyExists', 'Default security group already exists.');
      const sg = await ensureDefaultSecurityGroup(tx, projectId);
      return tx.securityGroup.findUniqueOrThrow({ where: { id: sg.id }, include: { rules: true } });
    });
  }
  return transaction(async (tx) => {
    await ensureDefaultSecurityGroup(tx, projectId);
    await checkQuota(tx, projectId, 'security_group');
    const sg = await tx.securityGroup.create({ data: { projectId, name: v.name, description: v.description } });
    await emitNetworkEvent(tx, 'security_group', 'created', projectId, sg.id);
    await tx.securityGroupRule.createMany({
      data: ['IPv4', 'IPv6'].map((ethertype) => ({
        securityGroupId: sg.id,
        projectId,
        direction: 'egress',
        ethertype,
      })),
    });
    return tx.securityGroup.findUniqueOrThrow({
      where: { id: sg.id },
      include: { rules: { orderBy: { createdAt: 'asc' } } },
    });
  });
}

export async function updateSecurityGroup(
  ctx: AuthContext,
  id: string,
  input: { name?: string; description?: string },
): Promise<SecurityGroupRecord> {
  const sg = await getSecurityGroup(ctx, id);
  authorize(ctx, 'update_security_group', sgTarget(sg));
  if (sg.defaultFor && input.name !== undefined && input.name !== 'default')
    throw nConflict('SecurityGroupCannotUpdateDefault', 'Updating default security group not allowed.');
  await transaction(async (tx) => {
    await tx.securityGroup.update({ where: { id }, data: { name: input.name, description: input.description } });
    await emitNetworkEvent(tx, 'security_group', 'updated', sg.projectId, id);
  });
  return getSecurityGroup(ctx, id);
}

export async function deleteSecurityGroup(ctx: AuthContext, id: string): Promise<void> {
  const sg = await getSecurityGroup(ctx, id);
  authorize(ctx, 'delete_security_group', sgTarget(sg));
  if (sg.defaultFor && !isAdmin(ctx))
    throw nConflict('SecurityGroupCannotRemoveDefault', 'Removing default security group not allowed.');
  await transaction(async (tx) => {
    const inUse = await tx.portSecurityGroup.count({ where: { securityGroupId: id } });
    if (inUse > 0) throw nConflict('SecurityGroupInUse', `Security Group ${id} in use.`);
    await tx.securityGroupRule.deleteMany({ where: { remoteGroupId: id } });
    await tx.securityGroup.delete({ where: { id } });
    await requestSync(tx, `security group ${id} deleted`);
    await emitNetworkEvent(tx, 'security_group', 'deleted', sg.projectId, id);
  });
}

export async function listSecurityGroupRules(
  ctx: AuthContext,
  filter: { ids?: string[]; securityGroupId?: string } = {},
): Promise<SecurityGroupRule[]> {
  const admin = isAdmin(ctx);
  if (ctx.projectId) await transaction((tx) => ensureDefaultSecurityGroup(tx, projectOf(ctx)));
  return db().securityGroupRule.findMany({
    where: {
      ...(admin ? {} : { projectId: ctx.projectId ?? '' }),
      ...(filter.ids ? { id: { in: filter.ids.filter(isUuidish) } } : {}),
      ...(filter.securityGroupId
        ? { securityGroupId: isUuidish(filter.securityGroupId) ? filter.securityGroupId : undefined }
        : {}),
    },
    orderBy: { createdAt: 'asc' },
  });
}

export async function getSecurityGroupRule(ctx: AuthContext, id: string): Promise<SecurityGroupRule> {
  const r = isUuidish(id) ? await db().securityGroupRule.findUnique({ where: { id } }) : null;
  const what = `Security group rule ${id} does not exist`;
  if (!r) throw nNotFound('SecurityGroupRuleNotFound', what);
  authorizeRead(ctx, 'get_security_group_rule', { project_id: r.projectId }, what);
  return r;
}

export async function createSecurityGroupRule(
  ctx: AuthContext,
  input: RuleInput | Record<string, unknown>,
): Promise<SecurityGroupRule> {
  const data = parseNeutronInput(RuleInput, input);
  const rule = normalizeRule(data);
  const sg = await getSecurityGroup(ctx, data.security_group_id);
  authorize(ctx, 'create_security_group_rule', sgTarget(sg));
  if (rule.remoteGroupId) {
    const remote = isUuidish(rule.remoteGroupId)
      ? await db().securityGroup.findUnique({ where: { id: rule.remoteGroupId } })
      : null;
    if (!remote || (remote.projectId !== sg.projectId && !isAdmin(ctx)))
      throw nNotFound('SecurityGroupNotFound', `Security group ${rule.remoteGroupId} does not exist`);
  }
  const same = sg.rules.find(
    (r) =>
      r.direction === rule.direction &&
      r.ethertype === rule.ethertype &&
      r.protocol === rule.protocol &&
      r.portRangeMin === rule.portRangeMin &&
      r.portRangeMax === rule.portRangeMax &&
      r.remoteIpPrefix === rule.remoteIpPrefix &&
      r.remoteGroupId === rule.remoteGroupId,
  );
  if (same) throw nConflict('SecurityGroupRuleExists', `Security group rule already exists. Rule id is ${same.id}.`);
  try {
    return await transaction(async (tx) => {
      await checkQuota(tx, sg.projectId, 'security_group_rule');
      const created = await tx.securityGroupRule.create({
        data: { ...rule, securityGroupId: sg.id, projectId: sg.projectId, description: data.description },
      });
      await requestSync(tx, `security group ${sg.id} rule added`);
      await emitNetworkEvent(tx, 'security_group_rule', 'created', sg.projectId, created.id);
      return created;
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw nConflict('SecurityGroupRuleExists', 'Security group rule already exists.');
    throw err;
  }
}

export async function deleteSecurityGroupRule(ctx: AuthContext, id: string): Promise<void> {
  const r = await getSecurityGroupRule(ctx, id);
  authorize(ctx, 'delete_security_group_rule', { project_id: r.projectId });
  await transaction(async (tx) => {
    await tx.securityGroupRule.delete({ where: { id } });
    await requestSync(tx, `security group rule ${id} deleted`);
    await emitNetworkEvent(tx, 'security_group_rule', 'deleted', r.projectId, id);
  });
}
