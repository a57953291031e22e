import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/*
 * A young-generation collection on demand, for code that moves data much faster than it
 * allocates JavaScript objects (an image upload: one 64 KiB Buffer per socket read, copied
 * away at once; an object store PUT or GET passing chunks between sockets and files). V8 frees those Buffers' memory only after a scavenge, and scavenges come
 * from JavaScript allocation, which is light here; meanwhile every ~64 MB of such
 * "external" memory makes V8 start a full mark-compact of the whole heap (the dashboard's,
 * in the web server). Measured on a 1 GiB upload (bench/image/server.ts, --trace-gc):
 * 23 mark-compacts without, 0–1 with a minor collection every 16 MiB (each ~0.1 ms), and
 * 1 CPU-s less. `noteDataBuffers` paces that for the whole process: every data path adds
 * the bytes of the Buffers it was handed, and every MINOR_GC_EVERY bytes one collection
 * runs, however many transfers are under way. The function comes from a fresh context created while --expose-gc is set,
 * then the flag is cleared again: the main context and later ones get no `gc` global.
 */
type Collect = (opts: { type: 'minor' }) => void;
let collect: Collect | null | undefined;
const MINOR_GC_EVERY = 16 * 1024 * 1024;
let sinceCollect = 0;

/** Counts `bytes` of short-lived data Buffers; collects the young generation every 16 MiB. */
export function noteDataBuffers(bytes: number): void {
  sinceCollect += bytes;
  if (sinceCollect < MINOR_GC_EVERY) return;
  sinceCollect = 0;
  minorGc();
}

export function minorGc(): void {
  if (collect === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      const fn: unknown = runInNewContext('gc');
      collect = typeof fn === 'function' ? (fn as Collect) : null;
    } catch {
      collect = null;
    } finally {
      setFlagsFromString('--no-expose-gc');
    }
  }
  collect?.({ type: 'minor' });
}
