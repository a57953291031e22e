import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { sendImageData } from '../image/read.ts';
import { FileRangeStream } from './file-range.ts';

const dir = mkdtempSync(join(tmpdir(), 'stratus-read-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const data = randomBytes(5 * 1024 * 1024 + 333);
const path = join(dir, 'data');
writeFileSync(path, data);

/** A destination that holds every chunk for a while before acknowledging it, keeping what it got. */
function slowSink(): { sink: Writable; got: () => Buffer } {
  const parts: Buffer[] = [];
  const sink = new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _enc, cb) {
      // A copy: the sender may reuse its buffer once cb ran, so a reference would see later data.
      parts.push(Buffer.from(chunk));
      setTimeout(cb, 2);
    },
  });
  return { sink, got: () => Buffer.concat(parts) };
}

async function readAll(r: NodeJS.ReadableStream): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of r) out.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
  return Buffer.concat(out);
}

describe('FileRangeStream', () => {
  it('reads the whole file or a range as an ordinary stream', async () => {
    expect((await readAll(new FileRangeStream(path, 0, data.length - 1))).equals(data)).toBe(true);
    expect(
      (await readAll(new FileRangeStream(path, 1_000_000, 3_500_000))).equals(data.subarray(1_000_000, 3_500_001)),
    ).toBe(true);
    expect((await readAll(new FileRangeStream(path, 0, -1))).length).toBe(0);
  });

  it('sends through reused buffers to a slow destination without mixing up chunks, then ends it', async () => {
    const { sink, got } = slowSink();
    const finished = new Promise((resolve) => sink.once('finish', resolve));
    await sendImageData(new FileRangeStream(path, 0, data.length - 1), sink);
    await finished;
    expect(got().equals(data)).toBe(true);
    for (const [start, end] of [
      [17, 2_222_222],
      [100, 4195],
      [5, 4],
    ] as const) {
      const part = slowSink();
      const ended = new Promise((resolve) => part.sink.once('finish', resolve));
      await new FileRangeStream(path, start, end).sendTo(part.sink);
      await ended;
      expect(part.got().equals(data.subarray(start, end + 1))).toBe(true);
    }
  });

  it('stops and rejects when the destination goes away, and when the file is shorter than promised', async () => {
    const { sink } = slowSink();
    const sending = new FileRangeStream(path, 0, data.length - 1).sendTo(sink);
    setTimeout(() => sink.destroy(), 5);
    await expect(sending).rejects.toThrow();
    await expect(new FileRangeStream(path, 0, data.length + 10).sendTo(new PassThrough().resume())).rejects.toThrow(
      /ended 11 bytes early/,
    );
    await expect(readAll(new FileRangeStream(join(dir, 'missing'), 0, 10))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
