import { constants, PerformanceObserver } from 'node:perf_hooks';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { minorGc, noteDataBuffers } from './gc.ts';

/*
 * Collections are observed through perf_hooks' `gc` entries (delivered asynchronously),
 * not through memory figures: V8 sweeps freed ArrayBuffers concurrently, so
 * `process.memoryUsage().arrayBuffers` drops at a time a test cannot know.
 */
const minors: number[] = [];
const observer = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as { detail?: { kind?: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MINOR) minors.push(e.startTime);
  }
});
observer.observe({ entryTypes: ['gc'] });
afterAll(() => observer.disconnect());

/** Minor collections observed while `fn` ran (entries arrive a little later). */
async function minorsDuring(fn: () => void): Promise<number> {
  await new Promise((r) => setTimeout(r, 20));
  const before = minors.length;
  fn();
  await new Promise((r) => setTimeout(r, 50));
  return minors.length - before;
}

describe('minorGc', () => {
  it('collects the young generation without leaving a gc global in this or later contexts', async () => {
    expect(await minorsDuring(() => minorGc())).toBeGreaterThanOrEqual(1);
    expect('gc' in globalThis).toBe(false);
    expect(runInNewContext('typeof gc')).toBe('undefined');
  });

  it('noteDataBuffers collects once 16 MiB of data Buffers were counted', async () => {
    minorGc(); // the process-wide count starts again from 0
    expect(await minorsDuring(() => noteDataBuffers(16 * 1024 * 1024))).toBeGreaterThanOrEqual(1);
  });
});
