import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FileRangeStream } from '../platform/file-range.ts';

/** Sends image data (from any store) to `dest` and ends it; a file's data goes through `sendTo`. */
export async function sendImageData(source: Readable, dest: Writable): Promise<void> {
  if (source instanceof FileRangeStream) await source.sendTo(dest);
  else await pipeline(source, dest);
}
