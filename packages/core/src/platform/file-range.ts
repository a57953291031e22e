import { type FileHandle, open } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';

/*
 * A file (or a byte range of it) as a Readable for any consumer, plus `sendTo` for
 * routes that send it on a socket (image downloads, object server GETs). A plain read
 * stream allocates a new buffer for every chunk: on the 2-core VM that fresh memory (page faults, zeroing) and the garbage collections it
 * triggers cost most of a download's CPU (~2.5–3.6 CPU-s per GiB, half of it in V8's
 * marking). `sendTo` cycles through SEND_BUFFERS reused buffers instead, handing a buffer
 * back to the reader only when the destination reports that chunk written (the write
 * callback): at most SEND_BUFFERS × CHUNK bytes are in flight, which is also the
 * backpressure.
 */
const CHUNK = 1024 * 1024;
const SEND_BUFFERS = 4;

export class FileRangeStream extends Readable {
  private fh: FileHandle | undefined;
  private pos: number;
  /** One past the last byte to send. */
  private readonly stop: number;

  /** `end` is inclusive, as in an HTTP Range. */
  constructor(
    private readonly path: string,
    start: number,
    end: number,
  ) {
    super({ highWaterMark: CHUNK });
    this.pos = start;
    this.stop = end + 1;
  }

  override _read(): void {
    void this.readChunk().catch((err: unknown) => this.destroy(err instanceof Error ? err : new Error(String(err))));
  }

  private async readChunk(): Promise<void> {
    if (!this.fh) {
      const fh = await open(this.path, 'r');
      // Destroyed while opening: nobody will close it but us.
      if (this.destroyed) {
        await fh.close();
        return;
      }
      this.fh = fh;
    }
    const n = Math.min(CHUNK, this.stop - this.pos);
    if (n <= 0) {
      this.push(null);
      return;
    }
    const buf = Buffer.allocUnsafeSlow(n);
    const { bytesRead } = await this.fh.read(buf, 0, n, this.pos);
    if (bytesRead === 0) throw new Error(`${this.path} ended ${this.stop - this.pos} bytes early`);
    this.pos += bytesRead;
    this.push(bytesRead < n ? buf.subarray(0, bytesRead) : buf);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const fh = this.fh;
    this.fh = undefined;
    void (fh ? fh.close() : Promise.resolve()).then(
      () => cb(err),
      () => cb(err),
    );
  }

  /**
   * Writes the data to `dest` and ends it, from reused buffers (instead of reading this
   * stream). Rejects when the file cannot be read or `dest` fails or closes first; the
   * caller then cuts the connection.
   */
  async sendTo(dest: Writable): Promise<void> {
    const fh = await open(this.path, 'r');
    // Small ranges get one buffer of their size (an object server answers many 4 KiB GETs).
    const length = Math.max(0, this.stop - this.pos);
    const count = Math.max(1, Math.min(SEND_BUFFERS, Math.ceil(length / CHUNK)));
    const free = Array.from({ length: count }, () => Buffer.allocUnsafeSlow(Math.max(1, Math.min(CHUNK, length))));
    const total = free.length;
    let failed: Error | undefined;
    let wake: (() => void) | undefined;
    const waitForBuffer = () =>
      new Promise<void>((resolve) => {
        wake = resolve;
      });
    const stopped = (err?: Error) => {
      failed ??= err ?? new Error('The destination closed before all data was sent.');
      wake?.();
    };
    const onClose = () => stopped();
    dest.once('close', onClose);
    dest.once('error', stopped);
    try {
      while (this.pos < this.stop && !failed) {
        const buf = free.pop();
        if (!buf) {
          await waitForBuffer();
          continue;
        }
        const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, this.stop - this.pos), this.pos);
        if (bytesRead === 0) throw new Error(`${this.path} ended ${this.stop - this.pos} bytes early`);
        this.pos += bytesRead;
        dest.write(buf.subarray(0, bytesRead), (err) => {
          if (err) stopped(err);
          free.push(buf);
          wake?.();
        });
      }
      while (free.length < total && !failed) await waitForBuffer();
      if (failed) throw failed;
      dest.end();
    } finally {
      dest.off('close', onClose);
      dest.off('error', stopped);
      await fh.close();
      this.destroy();
    }
  }
}
