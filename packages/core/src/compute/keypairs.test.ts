import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateSshKey, sshFingerprint } from './keypairs.ts';

// A fixed key and the fingerprint `ssh-keygen -l -E md5` prints for it (Nova's format).
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGNAHlvS4aBn2yBpk6S4sSGfN1O9Ubr6H8eoGZb6NTOR test@example';

function sshKeygenMd5(pub: string): string | undefined {
  try {
    const dir = mkdtempSync(join(tmpdir(), 'kp-'));
    writeFileSync(join(dir, 'k.pub'), `${pub}\n`);
    const out = execFileSync('ssh-keygen', ['-l', '-E', 'md5', '-f', join(dir, 'k.pub')], { encoding: 'utf8' });
    return /MD5:([0-9a-f:]+)/.exec(out)?.[1];
  } catch {
    return undefined;
  }
}

describe('key pair fingerprints', () => {
  it('is the MD5 of the key blob as colon-separated hex, like Nova', () => {
    const fp = sshFingerprint(KEY);
    expect(fp).toMatch(/^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
    const ref = sshKeygenMd5(KEY);
    if (ref) expect(fp).toBe(ref);
  });

  it('refuses data that is not an OpenSSH public key', () => {
    expect(() => sshFingerprint('not a key')).toThrow(/invalid/);
    expect(() =>
      sshFingerprint('ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIGNAHlvS4aBn2yBpk6S4sSGfN1O9Ubr6H8eoGZb6NTOR'),
    ).toThrow(/invalid/);
  });

  it('generates an RSA key whose public line ssh-keygen accepts and derives from the private key', () => {
    const k = generateSshKey('Generated-by-Stratus');
    expect(k.privateKey).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    const fp = sshFingerprint(k.publicKey);
    const ref = sshKeygenMd5(k.publicKey);
    if (ref) expect(fp).toBe(ref);
    try {
      const dir = mkdtempSync(join(tmpdir(), 'kp-'));
      writeFileSync(join(dir, 'id'), k.privateKey, { mode: 0o600 });
      const derived = execFileSync('ssh-keygen', ['-y', '-f', join(dir, 'id')], { encoding: 'utf8' }).trim();
      expect(derived.split(' ').slice(0, 2).join(' ')).toBe(k.publicKey.split(' ').slice(0, 2).join(' '));
      readFileSync(join(dir, 'id'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  });
});
