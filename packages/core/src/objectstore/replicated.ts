import { createHash } from 'node:crypto';
import { Agent, type ClientRequest, type IncomingMessage, request } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import { z } from 'zod';
import { badRequest, StratusError } from '../platform/errors.ts';
import { noteDataBuffers } from '../platform/gc.ts';
import type {
  ByteRange,
  GetObjectResult,
  ObjectBackend,
  ObjectMetadata,
  ObjectPath,
  PutObjectInput,
  SwiftTimestamp,
} from './backend.ts';
import { compareTimestamps, normalizeTimestamp, suffixOfHash } from './hash.ts';
import { decodeHeaderJson, encodeHeaderJson, OBJECT_LENGTH_HEADER } from './node/server.ts';
import type { RingDevice } from './ring/builder.ts';
import type { Ring, RingSource } from './ring/ring.ts';

/*
 * The proxy side of the object store (Swift's proxy-server object controller): an object
 * goes to the partition's primary devices; a primary that is down or unmounted is replaced by
 * the next handoff device; a write succeeds when a quorum (2 of 3) of replicas accepted it.
 * A PUT body is streamed once and teed to every replica's request with backpressure (the
 * slowest replica sets the pace), never buffered whole. Reads ask every primary and follow
 * the newest timestamp (a newer tombstone means deleted), falling back to handoffs when
 * primaries cannot answer.
 */

export interface ReplicatedBackendOptions {
  ring: RingSource;
  /** Time to get a replica's 100 Continue (or response headers). */
  connectTimeoutMs?: number;
  /** A replica silent this long mid-transfer is dropped. */
  nodeTimeoutMs?: number;
  /** After a quorum of replicas answered a read, how long the others still have (ms). */
  readGraceMs?: number;
  /** Sockets per object server kept alive. */
  maxSockets?: number;
}

const ObjectMetadataSchema = z.object({
  etag: z.string(),
  size: z.number().int().min(0),
  contentType: z.string(),
  timestamp: z.string(),
  userMeta: z.record(z.string(), z.string()),
  sysMeta: z.record(z.string(), z.string()),
  metaTimestamp: z.string().optional(),
});

function metadataOf(res: IncomingMessage): ObjectMetadata | undefined {
  try {
    const p = ObjectMetadataSchema.safeParse(decodeHeaderJson(res.headers['x-stratus-metadata']));
    if (!p.success) return undefined;
    const { metaTimestamp, ...rest } = p.data;
    return metaTimestamp ? { ...rest, metaTimestamp } : rest;
  } catch {
    return undefined;
  }
}

/**
 * Drops a response we will not read: a small body is drained so its kept-alive socket goes
 * back to the pool (a new connection costs more than 64 KiB of reading); a large one is cut.
 */
function discard(res: IncomingMessage | undefined): void {
  if (!res) return;
  const len = Number(res.headers['content-length'] ?? Number.POSITIVE_INFINITY);
  if (len <= 64 * 1024) res.resume();
  else res.destroy();
}

const unavailable = (m: string) => new StratusError('Unavailable', m);

interface NodeAnswer {
  device: RingDevice;
  status: number;
  res?: IncomingMessage;
}

function objectUrlPath(dev: RingDevice, partition: number, hash: string): string {
  return `/${encodeURIComponent(dev.device)}/${partition}/${hash}`;
}

export class ReplicatedObjectBackend implements ObjectBackend {
  private readonly agent: Agent;
  private readonly connectTimeoutMs: number;
  private readonly nodeTimeoutMs: number;
  private readonly readGraceMs: number;

  constructor(private readonly opts: ReplicatedBackendOptions) {
    this.agent = new Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 64, maxFreeSockets: 32 });
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 5000;
    this.nodeTimeoutMs = opts.nodeTimeoutMs ?? 30_000;
    this.readGraceMs = opts.readGraceMs ?? 10;
  }

  /** Closes kept-alive sockets (tests, shutdown). */
  close(): void {
    this.agent.destroy();
  }

  private quorum(ring: Ring): number {
    return Math.floor(ring.replicas / 2) + 1;
  }

  private start(
    dev: RingDevice,
    method: string,
    path: string,
    headers: Record<string, string | number>,
  ): ClientRequest {
    const req = request({ host: dev.host, port: dev.port, method, path, headers, agent: this.agent });
    req.setTimeout(this.nodeTimeoutMs, () =>
      req.destroy(new Error(`${dev.host}:${dev.port}/${dev.device}: timed out`)),
    );
    return req;
  }

  /** A body-less request; resolves with the status (0 when the node could not be reached). */
  private call(
    dev: RingDevice,
    method: string,
    path: string,
    headers: Record<string, string | number>,
    keepBody = false,
  ): Promise<NodeAnswer> {
    return new Promise((resolve) => {
      const req = this.start(dev, method, path, headers);
      const timer = setTimeout(() => req.destroy(new Error('connect timeout')), this.connectTimeoutMs);
      req.once('response', (res) => {
        clearTimeout(timer);
        if (!keepBody) res.resume();
        resolve({ device: dev, status: res.statusCode ?? 0, res });
      });
      req.once('error', () => {
        clearTimeout(timer);
        resolve({ device: dev, status: 0 });
      });
      req.end();
    });
  }

  /**
   * Sends a body-less write (POST, DELETE) to every primary, a handoff standing in for each
   * primary that cannot take it (unreachable, 507, 5xx).
   */
  private async fanout(
    ring: Ring,
    partition: number,
    hash: string,
    method: string,
    headers: Record<string, string | number>,
  ): Promise<NodeAnswer[]> {
    const handoffs = ring.handoffs(partition);
    const next = () => handoffs.shift();
    const failed = (s: number) => s === 0 || s >= 500;
    return Promise.all(
      ring.primaries(partition).map(async (dev) => {
        let d: RingDevice | undefined = dev;
        let answer: NodeAnswer = { device: dev, status: 0 };
        while (d) {
          answer = await this.call(d, method, objectUrlPath(d, partition, hash), headers);
          if (!failed(answer.status)) return answer;
          d = next();
        }
        return answer;
      }),
    );
  }

  async put(path: ObjectPath, input: PutObjectInput): Promise<ObjectMetadata> {
    const ring = this.opts.ring.current();
    const { hash, partition } = ring.locate(path);
    const ts = normalizeTimestamp(input.timestamp);
    if (!ts) {
      input.body.resume();
      throw badRequest(`bad timestamp ${input.timestamp}`);
    }
    const headers: Record<string, string | number> = {
      'x-timestamp': ts,
      'x-stratus-metadata': encodeHeaderJson({
        name: `/${path.account}/${path.container}/${path.object}`,
        contentType: input.contentType,
        userMeta: input.userMeta,
        sysMeta: input.sysMeta,
      }),
      expect: '100-continue',
    };
    // Always chunked to the replicas, the declared length in a header of its own: a replica
    // then commits only on the proxy's final chunk, once the proxy has seen the end of its
    // input, its length and md5. With Content-Length framing a replica commits as soon as it
    // has the bytes (at once for 0 bytes), and its early 201 raced the proxy's end of input
    // (counted as a refusal: "replicas failed during the upload"), or left an object the
    // proxy then refused (body longer than declared).
    headers['transfer-encoding'] = 'chunked';
    if (input.contentLength !== undefined) headers[OBJECT_LENGTH_HEADER] = input.contentLength;
    if (input.expectedEtag) headers['x-stratus-etag'] = input.expectedEtag.toLowerCase();

    const quorum = this.quorum(ring);
    const handoffs = ring.handoffs(partition);
    const writers = (
      await Promise.all(
        ring.primaries(partition).map(async (dev) => {
          let d: RingDevice | undefined = dev;
          while (d) {
            const w = await this.connectWriter(d, objectUrlPath(d, partition, hash), headers);
            if (w) return w;
            d = handoffs.shift();
          }
          return undefined;
        }),
      )
    ).filter((w): w is Writer => w !== undefined);
    if (writers.length < quorum) {
      for (const w of writers) w.req.destroy();
      input.body.resume();
      throw unavailable(`only ${writers.length} object servers could take the write (quorum ${quorum})`);
    }

    let etag: string;
    let size: number;
    try {
      ({ etag, size } = await this.tee(input.body, writers, quorum, input.contentLength));
    } catch (err) {
      for (const w of writers) w.req.destroy();
      throw err;
    }
    if (input.expectedEtag && input.expectedEtag.toLowerCase() !== etag) {
      // Never committed: the replicas see their request cut before the end.
      for (const w of writers) w.req.destroy();
      throw new StratusError('UnprocessableEntity', 'Unprocessable Entity: the ETag does not match the data.');
    }
    const live = writers.filter((w) => !w.failed);
    for (const w of live) w.req.end();
    // Requests cut short keep their socket busy: drop them.
    for (const w of writers) if (w.failed) w.req.destroy();
    const answers = await Promise.all(writers.filter((w) => !w.failed || w.superseded).map((w) => w.response));
    const ok = answers.filter((a) => (a.status === 201 && a.res?.headers.etag === etag) || a.status === 409);
    if (answers.some((a) => a.status === 422))
      throw new StratusError('UnprocessableEntity', 'Unprocessable Entity: the ETag does not match the data.');
    if (ok.length < quorum) throw unavailable(`only ${ok.length} replicas stored the object (quorum ${quorum})`);
    return {
      etag,
      size,
      contentType: input.contentType,
      timestamp: ts,
      userMeta: { ...input.userMeta },
      sysMeta: { ...input.sysMeta },
    };
  }

  /** Opens a PUT to one device and waits for its 100 Continue; undefined when it cannot take it. */
  private connectWriter(
    dev: RingDevice,
    path: string,
    headers: Record<string, string | number>,
  ): Promise<Writer | undefined> {
    return new Promise((resolve) => {
      const req = this.start(dev, 'PUT', path, headers);
      let settled = false;
      const w: Writer = { device: dev, req, failed: false, response: Promise.resolve({ device: dev, status: 0 }) };
      w.response = new Promise((r) => {
        req.once('response', (res) => {
          res.resume();
          r({ device: dev, status: res.statusCode ?? 0, res });
          if (!settled) {
            settled = true;
            clearTimeout(timer);
            req.destroy();
            resolve(undefined);
          }
        });
        req.on('error', () => {
          w.failed = true;
          r({ device: dev, status: 0 });
          if (!settled) {
            settled = true;
            clearTimeout(timer);
            resolve(undefined);
          }
        });
      });
      const timer = setTimeout(() => req.destroy(new Error('connect timeout')), this.connectTimeoutMs);
      req.once('continue', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(w);
      });
      req.flushHeaders();
    });
  }

  /** Streams the body to every writer; the slowest live one sets the pace. Returns the md5. */
  private tee(
    body: Readable,
    writers: Writer[],
    quorum: number,
    contentLength?: number,
  ): Promise<{ etag: string; size: number }> {
    const md5 = createHash('md5');
    let size = 0;
    return new Promise((resolve, reject) => {
      let done = false;
      let waiting = 0;
      const finish = (err?: Error) => {
        if (done) return;
        done = true;
        body.off('data', onData);
        if (err) {
          body.resume();
          reject(err);
        } else {
          resolve({ etag: md5.digest('hex'), size });
        }
      };
      const live = () => writers.filter((w) => !w.failed);
      const onFail = (w: Writer) => {
        if (w.waitingDrain) {
          w.waitingDrain = false;
          if (--waiting === 0) body.resume();
        }
        if (live().length + writers.filter((x) => x.superseded).length < quorum)
          finish(unavailable(`replicas failed during the upload (fewer than ${quorum} left)`));
      };
      for (const w of writers) {
        w.req.on('error', () => {
          w.failed = true;
          onFail(w);
        });
        w.req.on('drain', () => {
          if (!w.waitingDrain) return;
          w.waitingDrain = false;
          if (--waiting === 0 && !done) body.resume();
        });
        // A replica answering before the end refused the write (e.g. 507 mid-way, 499), or
        // already holds a newer version (409: the write is moot there, not failed).
        void w.response.then((a) => {
          if (!done && a.status !== 0) {
            w.failed = true;
            if (a.status === 409) w.superseded = true;
            onFail(w);
          }
        });
      }
      const onData = (chunk: Buffer) => {
        noteDataBuffers(chunk.length);
        md5.update(chunk);
        size += chunk.length;
        if (contentLength !== undefined && size > contentLength)
          return finish(badRequest('the body is longer than its Content-Length'));
        for (const w of live()) {
          if (!w.req.write(chunk) && !w.waitingDrain) {
            w.waitingDrain = true;
            waiting++;
          }
        }
        if (waiting > 0) body.pause();
      };
      body.on('data', onData);
      body.once('end', () => {
        if (contentLength !== undefined && size !== contentLength)
          finish(new StratusError('BadRequest', `received ${size} of ${contentLength} bytes`));
        else finish();
      });
      body.once('error', (err) => finish(new StratusError('BadRequest', `the upload was cut: ${err.message}`)));
      body.once('close', () => {
        if (!body.readableEnded) finish(new StratusError('BadRequest', 'the client went away during the upload'));
      });
    });
  }

  /** Asks every primary (then handoffs when primaries cannot answer) and keeps the newest. */
  private async newest(
    ring: Ring,
    path: ObjectPath,
    method: 'GET' | 'HEAD',
    range?: ByteRange,
  ): Promise<{ answer: NodeAnswer; metadata: ObjectMetadata; others: RingDevice[] } | null> {
    const { hash, partition } = ring.locate(path);
    const headers: Record<string, string> = {};
    if (range) headers.range = `bytes=${range.start}-${range.end}`;
    const keep = method === 'GET';
    const ask = (devs: RingDevice[]) =>
      Promise.all(devs.map((d) => this.call(d, method, objectUrlPath(d, partition, hash), headers, keep)));
    const answered = (a: NodeAnswer) => a.status === 200 || a.status === 206 || a.status === 416 || a.status === 404;
    let answers = await this.askPrimaries(ring, ring.primaries(partition), (d) =>
      this.call(d, method, objectUrlPath(d, partition, hash), headers, keep),
    );
    const failures = answers.filter((a) => !answered(a)).length;
    const found = answers.some((a) => a.status !== 404 && answered(a));
    if (!found && failures > 0) {
      // Writes for the failed primaries went to handoffs: look there too.
      const more = ring.handoffs(partition).slice(0, Math.max(failures, ring.replicas));
      answers = answers.concat(await ask(more));
    }
    if (!answers.some(answered)) {
      throw unavailable('no object server holding this object answered');
    }
    let best: { answer: NodeAnswer; metadata: ObjectMetadata } | undefined;
    let tombstone: SwiftTimestamp | undefined;
    for (const a of answers) {
      if (a.status === 404) {
        const t = a.res?.headers['x-backend-timestamp'];
        if (typeof t === 'string' && (!tombstone || compareTimestamps(t, tombstone) > 0)) tombstone = t;
        continue;
      }
      if (!answered(a) || !a.res) continue;
      const md = metadataOf(a.res);
      if (!md) continue;
      if (
        !best ||
        compareTimestamps(md.timestamp, best.metadata.timestamp) > 0 ||
        (md.timestamp === best.metadata.timestamp &&
          compareTimestamps(md.metaTimestamp ?? '', best.metadata.metaTimestamp ?? '') > 0)
      ) {
        best = { answer: a, metadata: md };
      }
    }
    for (const a of answers) if (a !== best?.answer) discard(a.res);
    if (best) this.readRepair(answers, best.metadata.timestamp, partition, hash);
    if (!best || (tombstone && compareTimestamps(tombstone, best.metadata.timestamp) >= 0)) {
      discard(best?.answer.res);
      return null;
    }
    // Replicas holding the same version, to resume from if the chosen one fails mid-way.
    const chosen = best;
    const others = answers
      .filter((a) => a !== chosen.answer && a.res && metadataOf(a.res)?.timestamp === chosen.metadata.timestamp)
      .map((a) => a.device);
    return { ...chosen, others };
  }

  /**
   * Replicas that answered with nothing or an older version than `newest` are told to rehash
   * that suffix, so that their suffix-hash cache (node/hashes.ts) does not hide a file lost
   * behind the object server's back and the replicator brings the object back.
   */
  private readRepair(answers: NodeAnswer[], newest: SwiftTimestamp, partition: number, hash: string): void {
    for (const a of answers) {
      const t = a.status === 404 ? a.res?.headers['x-backend-timestamp'] : a.res?.headers['x-timestamp'];
      const behind = a.status === 404 || a.status === 200 || a.status === 206;
      if (!behind || (typeof t === 'string' && compareTimestamps(t, newest) >= 0)) continue;
      const path = `/_r/${encodeURIComponent(a.device.device)}/${partition}/${suffixOfHash(hash)}`;
      void this.call(a.device, 'POST', path, {});
    }
  }

  /**
   * Asks every primary at once. Writes succeed on a quorum, so a quorum of answers includes
   * the newest successful write: once a quorum answered and one of them has the object,
   * the slower rest get `readGraceMs` more, then are dropped as they arrive (a loaded host
   * does not set every read's latency). Without data among the first answers, all are
   * awaited.
   */
  private askPrimaries(
    ring: Ring,
    devs: RingDevice[],
    ask: (d: RingDevice) => Promise<NodeAnswer>,
  ): Promise<NodeAnswer[]> {
    const quorum = this.quorum(ring);
    return new Promise((resolve) => {
      const got: NodeAnswer[] = [];
      let done = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        if (done) return;
        done = true;
        if (timer) clearTimeout(timer);
        resolve([...got]);
      };
      for (const d of devs) {
        void ask(d).then((a) => {
          if (done) return discard(a.res);
          got.push(a);
          if (got.length === devs.length) return finish();
          const hasData = got.some((x) => x.status === 200 || x.status === 206 || x.status === 416);
          if (!timer && got.length >= quorum && hasData) timer = setTimeout(finish, this.readGraceMs);
        });
      }
      if (devs.length === 0) finish();
    });
  }

  async get(path: ObjectPath, range?: ByteRange): Promise<GetObjectResult | null> {
    const ring = this.opts.ring.current();
    if (range && (range.start < 0 || range.end < range.start))
      throw new StratusError('RangeNotSatisfiable', 'Requested Range Not Satisfiable');
    const best = await this.newest(ring, path, 'GET', range);
    if (!best) return null;
    const res = best.answer.res;
    if (!res) return null;
    if (best.answer.status === 416) {
      res.destroy();
      throw new StratusError('RangeNotSatisfiable', 'Requested Range Not Satisfiable');
    }
    const out: GetObjectResult = { metadata: best.metadata, body: res };
    let first = 0;
    let last = best.metadata.size - 1;
    if (best.answer.status === 206) {
      const m = /^bytes (\d+)-(\d+)\//.exec(String(res.headers['content-range'] ?? ''));
      if (m) {
        first = Number(m[1]);
        last = Number(m[2]);
        out.range = { start: first, end: last };
      }
    }
    if (best.others.length > 0 && last >= first) {
      const { hash, partition } = ring.locate(path);
      out.body = this.resumable(res, best.metadata.timestamp, first, last, best.others, partition, hash);
    }
    return out;
  }

  /**
   * The body of a GET that, when its replica fails mid-way (server gone, disk error, short
   * file), carries on from another replica of the same version with a Range from the next
   * byte, as Swift's proxy does.
   */
  private resumable(
    res: IncomingMessage,
    timestamp: SwiftTimestamp,
    first: number,
    last: number,
    others: RingDevice[],
    partition: number,
    hash: string,
  ): Readable {
    let next = first;
    let current = res;
    const spares = [...others];
    const out = new PassThrough();
    const follow = (src: IncomingMessage) => {
      current = src;
      src.on('data', (chunk: Buffer) => {
        noteDataBuffers(chunk.length);
        next += chunk.length;
        if (!out.write(chunk)) src.pause();
      });
      src.once('end', () => {
        if (next > last) out.end();
        else void resume(new Error(`replica ended at byte ${next}`));
      });
      src.once('error', (err) => void resume(err));
    };
    const resume = async (cause: Error) => {
      current.removeAllListeners('data');
      current.destroy();
      for (let dev = spares.shift(); dev && !out.destroyed; dev = spares.shift()) {
        const a = await this.call(
          dev,
          'GET',
          objectUrlPath(dev, partition, hash),
          { range: `bytes=${next}-${last}` },
          true,
        );
        if (a.status === 206 && a.res?.headers['x-timestamp'] === timestamp) {
          follow(a.res);
          return;
        }
        discard(a.res);
      }
      out.destroy(unavailable(`the object's replicas failed during the download (${cause.message})`));
    };
    out.on('drain', () => current.resume());
    out.on('close', () => {
      if (next <= last) current.destroy();
    });
    follow(res);
    return out;
  }

  async head(path: ObjectPath): Promise<ObjectMetadata | null> {
    const best = await this.newest(this.opts.ring.current(), path, 'HEAD');
    return best?.metadata ?? null;
  }

  async post(
    path: ObjectPath,
    meta: {
      userMeta: Record<string, string>;
      sysMeta: Record<string, string>;
      contentType?: string;
      timestamp: SwiftTimestamp;
    },
  ): Promise<ObjectMetadata | null> {
    const ring = this.opts.ring.current();
    const ts = normalizeTimestamp(meta.timestamp);
    if (!ts) throw badRequest(`bad timestamp ${meta.timestamp}`);
    const { hash, partition } = ring.locate(path);
    const headers = {
      'x-timestamp': ts,
      'x-stratus-metadata': encodeHeaderJson({
        userMeta: meta.userMeta,
        sysMeta: meta.sysMeta,
        ...(meta.contentType ? { contentType: meta.contentType } : {}),
      }),
    };
    const answers = await this.fanout(ring, partition, hash, 'POST', headers);
    const decided = answers.filter((a) => a.status === 202 || a.status === 404 || a.status === 409);
    if (decided.length < this.quorum(ring)) throw unavailable('fewer than a quorum of object servers answered');
    let best: ObjectMetadata | undefined;
    for (const a of answers) {
      if (a.status !== 202 || !a.res) continue;
      const md = metadataOf(a.res);
      if (md && (!best || compareTimestamps(md.timestamp, best.timestamp) > 0)) best = md;
    }
    return best ?? null;
  }

  async delete(path: ObjectPath, timestamp: SwiftTimestamp): Promise<boolean> {
    const ring = this.opts.ring.current();
    const ts = normalizeTimestamp(timestamp);
    if (!ts) throw badRequest(`bad timestamp ${timestamp}`);
    const { hash, partition } = ring.locate(path);
    const answers = await this.fanout(ring, partition, hash, 'DELETE', { 'x-timestamp': ts });
    const decided = answers.filter((a) => a.status === 204 || a.status === 404 || a.status === 409);
    if (decided.length < this.quorum(ring)) throw unavailable('fewer than a quorum of object servers answered');
    return answers.some((a) => a.status === 204);
  }
}

interface Writer {
  device: RingDevice;
  req: ClientRequest;
  failed: boolean;
  /** Answered 409 before the end: it holds a newer version. */
  superseded?: boolean;
  waitingDrain?: boolean;
  response: Promise<NodeAnswer>;
}
