import type { Network } from '@stratus/db';
import { defaultGateway, parseCidr, usableRange, formatIp } from './cidr.ts';
import { cfg, db, nBadRequest, requestSync, transaction } from './common.ts';
import { validateSubnet } from './subnets.ts';

export const DEFAULT_EXTERNAL_NAME = 'public';

/**
 * The default external network, as devstack's `public`: a flat, host-only network
 * (172.24.4.0/24 by default) whose gateway address sits on the host side of its
 * bridge, so the host reaches floating IPs and nothing is routed to the uplink.
 * Idempotent: seeds call it on every start.
 */
export async function ensureDefaultExternalNetwork(): Promise<Network> {
  const existing = await db().network.findFirst({ where: { name: DEFAULT_EXTERNAL_NAME, external: true } });
  if (existing) return existing;
  const c = parseCidr(cfg().networkExternalCidr);
  if (c?.version !== 4) throw nBadRequest(`networkExternalCidr ${cfg().networkExternalCidr} is not an IPv4 CIDR`);
  const admin = await db().project.findFirst({ where: { name: 'admin' } });
  const gateway = defaultGateway(c);
  const range = usableRange(c);
  if (!gateway || !range) throw nBadRequest('the external CIDR is too small');
  const a = validateSubnet({
    cidr: cfg().networkExternalCidr,
    ipVersion: 4,
    gatewayIp: gateway,
    pools: [{ start: formatIp(4, range.first + 1n), end: formatIp(4, range.last) }],
    dns: [],
    routes: [],
  });
  return transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('stratus.network.default-external'))`;
    const again = await tx.network.findFirst({ where: { name: DEFAULT_EXTERNAL_NAME, external: true } });
    if (again) return again;
    const net = await tx.network.create({
      data: {
        projectId: admin?.id ?? '',
        name: DEFAULT_EXTERNAL_NAME,
        external: true,
        shared: false,
        networkType: 'flat',
        physicalNetwork: 'public',
        mtu: 1500,
        status: 'ACTIVE',
      },
    });
    await tx.subnet.create({
      data: {
        networkId: net.id,
        projectId: net.projectId,
        name: `${DEFAULT_EXTERNAL_NAME}-subnet`,
        ipVersion: 4,
        cidr: a.cidr,
        gatewayIp: a.gatewayIp,
        allocationPools: a.pools.map((p) => ({ start: p.start, end: p.end })),
        enableDhcp: false,
      },
    });
    await requestSync(tx, 'default external network created');
    return net;
  });
}
