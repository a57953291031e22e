import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

/*
 * The one typed configuration of Stratus. Sources, later wins: defaults, the JSON file
 * named by STRATUS_CONFIG_FILE (default /etc/stratus/stratus.json when present), the
 * environment. Nothing else in the code base reads process.env.
 */

const port = z.coerce.number().int().min(1).max(65535);
const Roles = z.enum(['scheduler', 'conductor', 'compute', 'network', 'volume', 'object', 'console', 'telemetry']);

export const ConfigSchema = z.object({
  stateDir: z.string().min(1).default('/var/lib/stratus'),
  databaseUrl: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL').optional(),
  embeddedPgPort: port.default(5439),
  host: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$/, 'must be a host name').default(hostname()),
  webListen: z.string().default('127.0.0.1'),
  webPort: port.default(3000),
  publicUrl: z.string().url().default('http://127.0.0.1:3000'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  workerRoles: z
    .string()
    .transform((s) => s.split(',').map((r) => r.trim()).filter(Boolean))
    .pipe(z.array(Roles))
    .default([...Roles.options]),
  workerConcurrency: z.coerce.number().int().min(1).max(64).default(4),
  heartbeatSeconds: z.coerce.number().int().min(1).max(300).default(10),
  /** A worker whose heartbeat is older than this is "down". */
  serviceDownSeconds: z.coerce.number().int().min(5).max(3600).default(30),
  authSecret: z.string().min(16).optional(),
  adminPassword: z.string().min(8).optional(),
  /** Identity: lifetime of a new token. */
  tokenLifetimeSeconds: z.coerce.number().int().min(60).max(7 * 24 * 3600).default(3600),
  /** Identity: dashboard sessions renew their token up to this long after the sign-in, then ask for the password. */
  sessionMaxLifetimeSeconds: z.coerce.number().int().min(300).max(30 * 24 * 3600).default(12 * 3600),
  /** Identity: failed password attempts before the account is locked (0 = never). */
  lockoutAttempts: z.coerce.number().int().min(0).max(1000).default(5),
  lockoutMinutes: z.coerce.number().min(0).max(7 * 24 * 60).default(15),
  /** Identity: token keys kept (staged + primary + old ones still accepted). */
  tokenMaxActiveKeys: z.coerce.number().int().min(3).max(20).default(3),
  /** JSON or YAML file overriding policy rules. */
  policyFile: z.string().min(1).optional(),
  /** Where the seed writes clouds.yaml for the openstack client (when writable). */
  cloudsYamlPath: z.string().min(1).default('/etc/openstack/clouds.yaml'),
  /** Images: where the filesystem store keeps image data (default <stateDir>/images). */
  imageStoreDir: z.string().min(1).optional(),
  /** Images: where image data lives: `file` (imageStoreDir) or `object` (the object store, container `glance`). */
  imageStore: z.enum(['file', 'object']).default('file'),
  /** Images: default per-project quota on the number of images (-1: unlimited). */
  imageQuotaImages: z.coerce.number().int().min(-1).default(100),
  /** Images: default per-project quota on the total bytes of image data (-1: unlimited). */
  imageQuotaBytes: z.coerce.number().int().min(-1).default(1024 ** 4),
  /** Images: largest single image accepted, in bytes (Glance's image_size_cap). */
  imageSizeCap: z.coerce.number().int().min(1).default(1024 ** 4),
  /** Images: algorithm of os_hash_value (Glance's hashing_algorithm); md5 `checksum` is always computed too. */
  imageHashAlgorithm: z.enum(['sha512', 'sha256']).default('sha512'),
  /** Compute: hosts a build is tried on before the server goes to ERROR. */
  schedulerMaxAttempts: z.coerce.number().int().min(1).max(20).default(3),
  /** Scheduler: filters run on every candidate host, in this order (comma separated). */
  schedulerEnabledFilters: z
    .string()
    .transform((s) => s.split(',').map((r) => r.trim()).filter(Boolean))
    .default([
      'AvailabilityZoneFilter',
      'ComputeFilter',
      'ImagePropertiesFilter',
      'ServerGroupAntiAffinityFilter',
      'ServerGroupAffinityFilter',
      'AggregateInstanceExtraSpecsFilter',
    ]),
  /** Scheduler weigher multipliers: positive spreads, negative packs, 0 disables. */
  schedulerRamWeightMultiplier: z.coerce.number().default(1),
  schedulerCpuWeightMultiplier: z.coerce.number().default(1),
  schedulerSoftAffinityWeightMultiplier: z.coerce.number().min(0).default(1),
  schedulerSoftAntiAffinityWeightMultiplier: z.coerce.number().min(0).default(1),
  /** Scheduler: pick randomly among this many best hosts (spreads parallel schedulers). */
  schedulerHostSubsetSize: z.coerce.number().int().min(1).max(1000).default(1),
  /** Scheduler: allocation candidates asked of placement per request. */
  schedulerMaxPlacementResults: z.coerce.number().int().min(1).max(100000).default(1000),
  /** Scheduler: reuse a candidate list (with this process's own claims applied) for this many ms; 0 = off. */
  schedulerCandidateCacheMs: z.coerce.number().int().min(0).max(10000).default(0),
  /** Compute: overcommit of each hypervisor's inventory, as Nova's allocation ratios. */
  cpuAllocationRatio: z.coerce.number().positive().max(64).default(4),
  ramAllocationRatio: z.coerce.number().positive().max(16).default(1),
  diskAllocationRatio: z.coerce.number().positive().max(16).default(1),
  /** Compute: MB of host memory and GB of disk kept for the host itself. */
  reservedHostMemoryMb: z.coerce.number().int().min(0).default(512),
  reservedHostDiskGb: z.coerce.number().int().min(0).default(0),
  /** Compute: seconds between power-state syncs of the hypervisor's domains. */
  powerSyncSeconds: z.coerce.number().int().min(1).max(3600).default(10),
  /** Compute: the availability zone of every host (no host aggregates yet). */
  defaultAvailabilityZone: z.string().min(1).default('nova'),
  /** Compute: default project quotas (-1 = unlimited). */
  quotaInstances: z.coerce.number().int().min(-1).default(10),
  quotaCores: z.coerce.number().int().min(-1).default(20),
  quotaRamMb: z.coerce.number().int().min(-1).default(51200),
  quotaKeyPairs: z.coerce.number().int().min(-1).default(100),
  quotaServerGroups: z.coerce.number().int().min(-1).default(10),
  quotaServerGroupMembers: z.coerce.number().int().min(-1).default(10),
  quotaMetadataItems: z.coerce.number().int().min(-1).default(128),
  /** Metadata service: unix socket the namespaces' metadata proxies forward to. */
  metadataSocket: z.string().min(1).optional(),
  /** Network: VXLAN VNIs handed to tenant networks. */
  networkVniMin: z.coerce.number().int().min(1).max(16777215).default(1001),
  networkVniMax: z.coerce.number().int().min(1).max(16777215).default(65000),
  /** Network: the default external (host-only) network created at seed. */
  networkExternalCidr: z.string().default('172.24.4.0/24'),
  /** Network: tenant network MTU (VXLAN overhead is 50 bytes on a 1500 underlay). */
  networkMtu: z.coerce.number().int().min(576).max(9000).default(1450),
  /** Network: marks every host object the agent creates; two clouds on one host need two markers. */
  networkMarker: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,31}$/).default('stratus'),
  /** Network: this host's VXLAN tunnel endpoint (VTEP) address; unset = no tunnels (one host). */
  networkTunnelIp: z.union([z.ipv4(), z.ipv6()]).optional(),
  /** Network: underlay device the tunnels leave by (default: chosen by the route to each peer). */
  networkTunnelDev: z.string().regex(/^[A-Za-z0-9_.-]{1,15}$/).optional(),
  /** Network: VXLAN UDP port; the same on every host. */
  networkTunnelPort: port.default(4789),
  /** Consoles: lifetime of a console token (single use) in seconds. */
  consoleTokenTtlSeconds: z.coerce.number().int().min(10).max(86400).default(600),
  /** Consoles: address the worker's console proxy (websocket) listens on. */
  consoleProxyListen: z.string().min(1).default('127.0.0.1'),
  consoleProxyPort: port.default(6080),
  /** Object storage: address and port of this host's object server (role object). */
  objectServerListen: z.string().min(1).default('127.0.0.1'),
  objectServerPort: port.default(6300),
  /** Object storage: address other hosts reach this object server at (default: the listen address, or the host name when it listens on all). */
  objectServerAddress: z.string().min(1).optional(),
  /** Object storage: folder holding this host's device folders (default <stateDir>/objectstore). */
  objectDevicesRoot: z.string().min(1).optional(),
  /** Object storage: device folder names under the root, registered in the ring at start (comma separated). */
  objectDevices: z
    .string()
    .transform((s) => s.split(',').map((r) => r.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/)).min(1))
    .default(['d1', 'd2', 'd3']),
  /** Object storage: zone and weight of this host's devices when they join the ring. */
  objectZone: z.coerce.number().int().min(0).max(65535).default(1),
  objectDeviceWeight: z.coerce.number().positive().default(100),
  /** Object storage: shape of the ring when it is first created (partitions = 2^power). */
  objectPartPower: z.coerce.number().int().min(0).max(20).default(10),
  objectReplicas: z.coerce.number().int().min(1).max(8).default(3),
  /** Object storage: a partition moved for balance is not moved again for this many hours. */
  objectMinPartHours: z.coerce.number().int().min(0).max(1000).default(1),
  /** Object storage: seconds between replicator passes and between auditor passes. */
  objectReplicatorSeconds: z.coerce.number().int().min(1).max(86400).default(30),
  objectAuditorSeconds: z.coerce.number().int().min(1).max(7 * 86400).default(600),
  /** Object storage: auditor read rate limit in bytes/s (0 = none). */
  objectAuditorBytesPerSecond: z.coerce.number().int().min(0).default(20 * 1024 * 1024),
  /** Object storage: a partition's suffix-hash cache is rebuilt by a full listing after this long (0 = no cache). */
  objectHashCacheSeconds: z.coerce.number().int().min(0).max(30 * 86400).default(3600),
  /** Volumes: default project quotas (-1 = unlimited). */
  quotaVolumes: z.coerce.number().int().min(-1).default(10),
  quotaVolumeGigabytes: z.coerce.number().int().min(-1).default(1000),
  quotaSnapshots: z.coerce.number().int().min(-1).default(10),
  quotaBackups: z.coerce.number().int().min(-1).default(10),
  quotaBackupGigabytes: z.coerce.number().int().min(-1).default(1000),
  quotaPerVolumeGigabytes: z.coerce.number().int().min(-1).default(-1),
  /** Volumes: the type of a volume created without one. */
  volumeDefaultType: z.string().min(1).max(255).default('__DEFAULT__'),
  /** Volumes: where the file backend keeps volume and snapshot files (default <stateDir>/volumes). */
  volumeDir: z.string().min(1).optional(),
  /** Volumes: format of new volume files on the file backend. */
  volumeFormat: z.enum(['qcow2', 'raw']).default('qcow2'),
  /** Volumes: this host's backend name (volume types select it with volume_backend_name). */
  volumeBackendName: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).default('file'),
  /** Volumes: thin provisioning — allocated GB may reach the backend's size × this ratio. */
  volumeOverSubscriptionRatio: z.coerce.number().positive().max(1000).default(20),
  /** Backups: where the filesystem backup target keeps backups (default <stateDir>/backups). */
  backupDir: z.string().min(1).optional(),
  /** Backups: chunk size in MiB; an incremental backup stores only the chunks that changed. */
  backupChunkMb: z.coerce.number().int().min(1).max(1024).default(8),
  /**
   * Backups: where new backups go. `object`: the owner's object-store account (Cinder's swift
   * driver); `filesystem`: backupDir; `auto`: the object store when its ring has devices.
   */
  backupTarget: z.enum(['auto', 'object', 'filesystem']).default('auto'),
  /** Backups: object-store container when the user names none (Cinder's backup_swift_container). */
  backupContainer: z.string().regex(/^[A-Za-z0-9_.-]{1,255}$/).default('volumebackups'),
});
export type Config = z.infer<typeof ConfigSchema>;

/** Environment variable of each key. */
export const ENV_KEYS: Record<keyof Config, string> = {
  stateDir: 'STRATUS_STATE_DIR',
  databaseUrl: 'DATABASE_URL',
  embeddedPgPort: 'STRATUS_PG_PORT',
  host: 'STRATUS_HOST',
  webListen: 'STRATUS_WEB_LISTEN',
  webPort: 'STRATUS_WEB_PORT',
  publicUrl: 'STRATUS_PUBLIC_URL',
  logLevel: 'STRATUS_LOG_LEVEL',
  workerRoles: 'STRATUS_WORKER_ROLES',
  workerConcurrency: 'STRATUS_WORKER_CONCURRENCY',
  heartbeatSeconds: 'STRATUS_HEARTBEAT_SECONDS',
  serviceDownSeconds: 'STRATUS_SERVICE_DOWN_SECONDS',
  authSecret: 'STRATUS_AUTH_SECRET',
  adminPassword: 'STRATUS_ADMIN_PASSWORD',
  tokenLifetimeSeconds: 'STRATUS_TOKEN_LIFETIME_SECONDS',
  sessionMaxLifetimeSeconds: 'STRATUS_SESSION_MAX_LIFETIME_SECONDS',
  lockoutAttempts: 'STRATUS_LOCKOUT_ATTEMPTS',
  lockoutMinutes: 'STRATUS_LOCKOUT_MINUTES',
  tokenMaxActiveKeys: 'STRATUS_TOKEN_MAX_ACTIVE_KEYS',
  policyFile: 'STRATUS_POLICY_FILE',
  cloudsYamlPath: 'STRATUS_CLOUDS_YAML',
  imageStoreDir: 'STRATUS_IMAGE_STORE_DIR',
  imageStore: 'STRATUS_IMAGE_STORE',
  imageQuotaImages: 'STRATUS_IMAGE_QUOTA_IMAGES',
  imageQuotaBytes: 'STRATUS_IMAGE_QUOTA_BYTES',
  imageSizeCap: 'STRATUS_IMAGE_SIZE_CAP',
  imageHashAlgorithm: 'STRATUS_IMAGE_HASH_ALGORITHM',
  schedulerMaxAttempts: 'STRATUS_SCHEDULER_MAX_ATTEMPTS',
  schedulerEnabledFilters: 'STRATUS_SCHEDULER_ENABLED_FILTERS',
  schedulerRamWeightMultiplier: 'STRATUS_SCHEDULER_RAM_WEIGHT_MULTIPLIER',
  schedulerCpuWeightMultiplier: 'STRATUS_SCHEDULER_CPU_WEIGHT_MULTIPLIER',
  schedulerSoftAffinityWeightMultiplier: 'STRATUS_SCHEDULER_SOFT_AFFINITY_WEIGHT_MULTIPLIER',
  schedulerSoftAntiAffinityWeightMultiplier: 'STRATUS_SCHEDULER_SOFT_ANTI_AFFINITY_WEIGHT_MULTIPLIER',
  schedulerHostSubsetSize: 'STRATUS_SCHEDULER_HOST_SUBSET_SIZE',
  schedulerMaxPlacementResults: 'STRATUS_SCHEDULER_MAX_PLACEMENT_RESULTS',
  schedulerCandidateCacheMs: 'STRATUS_SCHEDULER_CANDIDATE_CACHE_MS',
  cpuAllocationRatio: 'STRATUS_CPU_ALLOCATION_RATIO',
  ramAllocationRatio: 'STRATUS_RAM_ALLOCATION_RATIO',
  diskAllocationRatio: 'STRATUS_DISK_ALLOCATION_RATIO',
  reservedHostMemoryMb: 'STRATUS_RESERVED_HOST_MEMORY_MB',
  reservedHostDiskGb: 'STRATUS_RESERVED_HOST_DISK_GB',
  powerSyncSeconds: 'STRATUS_POWER_SYNC_SECONDS',
  defaultAvailabilityZone: 'STRATUS_DEFAULT_AVAILABILITY_ZONE',
  quotaInstances: 'STRATUS_QUOTA_INSTANCES',
  quotaCores: 'STRATUS_QUOTA_CORES',
  quotaRamMb: 'STRATUS_QUOTA_RAM_MB',
  quotaKeyPairs: 'STRATUS_QUOTA_KEY_PAIRS',
  quotaServerGroups: 'STRATUS_QUOTA_SERVER_GROUPS',
  quotaServerGroupMembers: 'STRATUS_QUOTA_SERVER_GROUP_MEMBERS',
  quotaMetadataItems: 'STRATUS_QUOTA_METADATA_ITEMS',
  metadataSocket: 'STRATUS_METADATA_SOCKET',
  networkVniMin: 'STRATUS_NETWORK_VNI_MIN',
  networkVniMax: 'STRATUS_NETWORK_VNI_MAX',
  networkExternalCidr: 'STRATUS_NETWORK_EXTERNAL_CIDR',
  networkMtu: 'STRATUS_NETWORK_MTU',
  networkMarker: 'STRATUS_NETWORK_MARKER',
  networkTunnelIp: 'STRATUS_NETWORK_TUNNEL_IP',
  networkTunnelDev: 'STRATUS_NETWORK_TUNNEL_DEV',
  networkTunnelPort: 'STRATUS_NETWORK_TUNNEL_PORT',
  consoleTokenTtlSeconds: 'STRATUS_CONSOLE_TOKEN_TTL_SECONDS',
  consoleProxyListen: 'STRATUS_CONSOLE_PROXY_LISTEN',
  consoleProxyPort: 'STRATUS_CONSOLE_PROXY_PORT',
  objectServerListen: 'STRATUS_OBJECT_SERVER_LISTEN',
  objectServerPort: 'STRATUS_OBJECT_SERVER_PORT',
  objectServerAddress: 'STRATUS_OBJECT_SERVER_ADDRESS',
  objectDevicesRoot: 'STRATUS_OBJECT_DEVICES_ROOT',
  objectDevices: 'STRATUS_OBJECT_DEVICES',
  objectZone: 'STRATUS_OBJECT_ZONE',
  objectDeviceWeight: 'STRATUS_OBJECT_DEVICE_WEIGHT',
  objectPartPower: 'STRATUS_OBJECT_PART_POWER',
  objectReplicas: 'STRATUS_OBJECT_REPLICAS',
  objectMinPartHours: 'STRATUS_OBJECT_MIN_PART_HOURS',
  objectReplicatorSeconds: 'STRATUS_OBJECT_REPLICATOR_SECONDS',
  objectAuditorSeconds: 'STRATUS_OBJECT_AUDITOR_SECONDS',
  objectAuditorBytesPerSecond: 'STRATUS_OBJECT_AUDITOR_BYTES_PER_SECOND',
  objectHashCacheSeconds: 'STRATUS_OBJECT_HASH_CACHE_SECONDS',
  quotaVolumes: 'STRATUS_QUOTA_VOLUMES',
  quotaVolumeGigabytes: 'STRATUS_QUOTA_VOLUME_GIGABYTES',
  quotaSnapshots: 'STRATUS_QUOTA_SNAPSHOTS',
  quotaBackups: 'STRATUS_QUOTA_BACKUPS',
  quotaBackupGigabytes: 'STRATUS_QUOTA_BACKUP_GIGABYTES',
  quotaPerVolumeGigabytes: 'STRATUS_QUOTA_PER_VOLUME_GIGABYTES',
  volumeDefaultType: 'STRATUS_VOLUME_DEFAULT_TYPE',
  volumeDir: 'STRATUS_VOLUME_DIR',
  volumeFormat: 'STRATUS_VOLUME_FORMAT',
  volumeBackendName: 'STRATUS_VOLUME_BACKEND_NAME',
  volumeOverSubscriptionRatio: 'STRATUS_VOLUME_OVER_SUBSCRIPTION_RATIO',
  backupDir: 'STRATUS_BACKUP_DIR',
  backupChunkMb: 'STRATUS_BACKUP_CHUNK_MB',
  backupTarget: 'STRATUS_BACKUP_TARGET',
  backupContainer: 'STRATUS_BACKUP_CONTAINER',
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

export function parseConfig(env: Env, fileValues: Record<string, unknown> = {}): Config {
  const raw: Record<string, unknown> = { ...fileValues };
  for (const [key, envName] of Object.entries(ENV_KEYS)) {
    const v = env[envName];
    if (v !== undefined && v !== '') raw[key] = v;
  }
  const res = ConfigSchema.safeParse(raw);
  if (!res.success) {
    const msgs = res.error.issues.map((i) => {
      const key = String(i.path[0] ?? '');
      const envName = key in ENV_KEYS ? ENV_KEYS[key as keyof Config] : key;
      return `${envName} (${key}): ${i.message}`;
    });
    throw new ConfigError(`invalid configuration: ${msgs.join('; ')}`);
  }
  return res.data;
}

function readConfigFile(path: string | undefined): Record<string, unknown> {
  const file = path ?? '/etc/stratus/stratus.json';
  if (!existsSync(file)) {
    if (path) throw new ConfigError(`STRATUS_CONFIG_FILE: ${file} does not exist`);
    return {};
  }
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return z.record(z.string(), z.unknown()).parse(parsed);
  } catch (err) {
    throw new ConfigError(`STRATUS_CONFIG_FILE: ${file} is not a JSON object (${(err as Error).message})`);
  }
}

let cached: Config | undefined;
/** Loads once per process from process.env and the optional file. */
export function loadConfig(): Config {
  cached ??= parseConfig(process.env, readConfigFile(process.env.STRATUS_CONFIG_FILE));
  return cached;
}

/** For tests: replace the process-wide config. */
export function setConfig(c: Config): void {
  cached = c;
}

/** DATABASE_URL, or the embedded server's URL derived from the state directory. */
export function databaseUrl(c: Config): string {
  if (c.databaseUrl) return c.databaseUrl;
  const pwFile = join(c.stateDir, 'db', 'password');
  if (!existsSync(pwFile)) {
    throw new ConfigError(`DATABASE_URL is not set and the embedded database has not been created (${pwFile} missing): run the start command`);
  }
  const pw = readFileSync(pwFile, 'utf8').trim();
  return `postgresql://postgres:${encodeURIComponent(pw)}@127.0.0.1:${c.embeddedPgPort}/stratus`;
}
