import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './config.ts';

describe('parseConfig', () => {
  it('applies defaults', () => {
    const c = parseConfig({});
    expect(c.stateDir).toBe('/var/lib/stratus');
    expect(c.webPort).toBe(3000);
    expect(c.workerRoles).toContain('compute');
    expect(c.databaseUrl).toBeUndefined();
  });

  it('reads the environment over the file', () => {
    const c = parseConfig({ STRATUS_WEB_PORT: '3100', STRATUS_WORKER_ROLES: 'compute, network' }, { webPort: 4000, stateDir: '/srv/s' });
    expect(c.webPort).toBe(3100);
    expect(c.stateDir).toBe('/srv/s');
    expect(c.workerRoles).toEqual(['compute', 'network']);
  });

  it('names the key and what is allowed when a value is invalid', () => {
    expect(() => parseConfig({ STRATUS_WEB_PORT: 'abc' })).toThrow(ConfigError);
    expect(() => parseConfig({ STRATUS_WEB_PORT: '70000' })).toThrow(/STRATUS_WEB_PORT \(webPort\)/);
    expect(() => parseConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL \(databaseUrl\): must be a postgresql:\/\/ URL/);
    expect(() => parseConfig({ STRATUS_WORKER_ROLES: 'compute,teleport' })).toThrow(/STRATUS_WORKER_ROLES/);
    expect(() => parseConfig({ STRATUS_LOG_LEVEL: 'loud' })).toThrow(/STRATUS_LOG_LEVEL \(logLevel\)/);
  });
});
