import { getLimits } from '@stratus/core/compute/index';
import { getNetworkQuotaDetails, type NetworkQuotaResource } from '@stratus/core/network/index';
import { isStratusError } from '@stratus/core/platform/errors';
import { showVolumeQuotaUsage } from '@stratus/core/volume/index';
import { protectedProcedure } from '../../trpc/init';

export interface QuotaGauge {
  resource: string;
  label: string;
  used: number;
  /** -1: unlimited. */
  limit: number;
  unit?: 'mb' | 'gb';
}
export interface QuotaSection {
  service: 'compute' | 'network' | 'volume';
  title: string;
  gauges: QuotaGauge[] | null;
  /** Why a section has no gauges (e.g. the caller's role may not read that quota). */
  error: string | null;
}

const NETWORK: Array<[NetworkQuotaResource, string]> = [
  ['network', 'Networks'],
  ['subnet', 'Subnets'],
  ['port', 'Ports'],
  ['router', 'Routers'],
  ['floatingip', 'Floating IPs'],
  ['security_group', 'Security groups'],
  ['security_group_rule', 'Security group rules'],
];

/** One section failing (policy, a service not ready) must not blank the others. */
async function section(
  service: QuotaSection['service'],
  title: string,
  read: () => Promise<QuotaGauge[]>,
): Promise<QuotaSection> {
  try {
    return { service, title, gauges: await read(), error: null };
  } catch (err) {
    if (!isStratusError(err)) throw err;
    return { service, title, gauges: null, error: err.message };
  }
}

/**
 * The caller's project quota usage per service, for the project Overview's charts.
 * Core enforces each service's own quota-read policy.
 */
export const projectQuotas = protectedProcedure.query(async ({ ctx }): Promise<QuotaSection[]> => {
  const projectId = ctx.auth.projectId;
  if (!projectId) return [];
  return Promise.all([
    section('compute', 'Compute', async () => {
      const l = await getLimits(ctx.auth);
      return [
        { resource: 'instances', label: 'Instances', used: l.totalInstancesUsed, limit: l.maxTotalInstances },
        { resource: 'cores', label: 'vCPUs', used: l.totalCoresUsed, limit: l.maxTotalCores },
        { resource: 'ram', label: 'RAM', used: l.totalRAMUsed, limit: l.maxTotalRAMSize, unit: 'mb' as const },
        { resource: 'key_pairs', label: 'Key pairs', used: l.totalKeyPairsUsed, limit: l.maxTotalKeypairs },
        {
          resource: 'server_groups',
          label: 'Server groups',
          used: l.totalServerGroupsUsed,
          limit: l.maxServerGroups,
        },
      ];
    }),
    section('network', 'Network', async () => {
      const q = await getNetworkQuotaDetails(ctx.auth, projectId);
      return NETWORK.map(([resource, label]) => ({
        resource,
        label,
        used: q[resource].used,
        limit: q[resource].limit,
      }));
    }),
    // Cinder's limits; gigabytes count volumes and snapshots, as core's quota check does.
    section('volume', 'Block storage', async () => {
      const q = await showVolumeQuotaUsage(ctx.auth, projectId);
      return [
        { resource: 'volumes', label: 'Volumes', used: q.volumes.in_use, limit: q.volumes.limit },
        {
          resource: 'gigabytes',
          label: 'Volume storage',
          used: q.gigabytes.in_use,
          limit: q.gigabytes.limit,
          unit: 'gb' as const,
        },
        { resource: 'snapshots', label: 'Snapshots', used: q.snapshots.in_use, limit: q.snapshots.limit },
        { resource: 'backups', label: 'Backups', used: q.backups.in_use, limit: q.backups.limit },
        {
          resource: 'backup_gigabytes',
          label: 'Backup storage',
          used: q.backup_gigabytes.in_use,
          limit: q.backup_gigabytes.limit,
          unit: 'gb' as const,
        },
      ];
    }),
  ]);
});
