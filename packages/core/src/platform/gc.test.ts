import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { minorGc, noteDataBuffers } from './gc.ts';

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

  it('noteDataBuffers collects once 16 MiB of data Buffers were counted, not before', () => {
    minorGc();
    const garbage = () => {
      for (let i = 0; i < 32; i++) Buffer.allocUnsafeSlow(1024 * 1024);
    };
    const base = process.memoryUsage().arrayBuffers;
    garbage();
    noteDataBuffers(1024);
    expect(process.memoryUsage().arrayBuffers - base).toBeGreaterThan(16 * 1024 * 1024);
    noteDataBuffers(16 * 1024 * 1024);
    expect(process.memoryUsage().arrayBuffers - base).toBeLessThan(16 * 1024 * 1024);
  });
});
