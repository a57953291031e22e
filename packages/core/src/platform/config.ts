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
  /** Identity: failed password attempts before the account is locked (0 = never). */
  lockoutAttempts: z.coerce.number().int().min(0).max(1000).default(5),
  lockoutMinutes: z.coerce.number().min(0).max(7 * 24 * 60).default(15),
  /** Identity: token keys kept (staged + primary + old ones still accepted). */
  tokenMaxActiveKeys: z.coerce.number().int().min(3).max(20).default(3),
  /** JSON or YAML file overriding policy rules. */
  policyFile: z.string().min(1).optional(),
  /** Where the seed writes clouds.yaml for the openstack client (when writable). */
  cloudsYamlPath: z.string().min(1).default('/etc/openstack/clouds.yaml'),
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
  lockoutAttempts: 'STRATUS_LOCKOUT_ATTEMPTS',
  lockoutMinutes: 'STRATUS_LOCKOUT_MINUTES',
  tokenMaxActiveKeys: 'STRATUS_TOKEN_MAX_ACTIVE_KEYS',
  policyFile: 'STRATUS_POLICY_FILE',
  cloudsYamlPath: 'STRATUS_CLOUDS_YAML',
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
