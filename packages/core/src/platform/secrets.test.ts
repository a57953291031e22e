import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { authSecret } from './secrets.ts';

describe('authSecret', () => {
  it('uses the configured secret when there is one', () => {
    expect(authSecret({ authSecret: 'x'.repeat(32), stateDir: '/nonexistent' })).toBe('x'.repeat(32));
  });

  it('creates a random secret once under the state directory (0600) and reads it back', () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'stratus-secrets-'));
    const first = authSecret({ stateDir });
    expect(first.length).toBeGreaterThanOrEqual(32);
    const file = join(stateDir, 'secrets', 'auth-secret');
    expect(readFileSync(file, 'utf8').trim()).toBe(first);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(authSecret({ stateDir })).toBe(first);
    expect(authSecret({ stateDir: mkdtempSync(join(tmpdir(), 'stratus-secrets-')) })).not.toBe(first);
  });
});
