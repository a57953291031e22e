import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { minorGc } from './gc.ts';

describe('minorGc', () => {
  it('collects the young generation without leaving a gc global in this or later contexts', () => {
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 64; i++) Buffer.allocUnsafeSlow(1024 * 1024);
    minorGc();
    minorGc();
    // The 64 MiB of dead Buffers are freed by the scavenge (allow other tests' noise).
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(32 * 1024 * 1024);
    expect('gc' in globalThis).toBe(false);
    expect(runInNewContext('typeof gc')).toBe('undefined');
  });
});
