import type { Readable } from 'node:stream';

/*
 * The contract between the Swift/S3 API layer (accounts, containers, listings, ACLs,
 * large objects, temp URLs: objectstore/swift) and the replicated object storage under it
 * (ring, object servers on each host, quorum writes, handoffs, replicator, auditor:
 * objectstore/ring and the worker's object server). The API layer never touches a disk;
 * the storage layer knows nothing of accounts, listings or policy.
 */

/** Where an object lives: names as the Swift API received them (already URL-decoded). */
export interface ObjectPath {
  /** e.g. AUTH_<project id> */
  account: string;
  container: string;
  object: string;
}

/**
 * Swift-style timestamp: seconds since the epoch with 5 decimals ("1700000000.12345").
 * The newest timestamp wins between replicas, for data, metadata and deletes alike.
 */
export type SwiftTimestamp = string;

/** What is stored beside an object's bytes and returned on GET/HEAD. */
export interface ObjectMetadata {
  /** Hex md5 of the bytes (for an SLO manifest: of the manifest body as stored). */
  etag: string;
  size: number;
  contentType: string;
  /** Timestamp of the data (PUT). */
  timestamp: SwiftTimestamp;
  /** X-Object-Meta-* headers, keys lower-case without the prefix. POST replaces them all. */
  userMeta: Record<string, string>;
  /**
   * Other headers Swift keeps with the object and the API layer interprets, lower-case:
   * content-disposition, content-encoding, x-delete-at, x-object-manifest (DLO),
   * x-static-large-object ("True" for SLO manifests). POST replaces them too,
   * except x-static-large-object and x-object-manifest, which only PUT sets.
   */
  sysMeta: Record<string, string>;
  /** Timestamp of the last POST, when newer than the data. */
  metaTimestamp?: SwiftTimestamp;
}

export interface PutObjectInput {
  /** The body, streamed: never buffered whole. */
  body: Readable;
  /** Content-Length when the client sent one; absent for chunked transfer. */
  contentLength?: number;
  /** The client's ETag header: the write fails with 422 when the md5 of the bytes differs. */
  expectedEtag?: string;
  contentType: string;
  userMeta: Record<string, string>;
  sysMeta: Record<string, string>;
  timestamp: SwiftTimestamp;
}

export interface ByteRange {
  /** Inclusive first byte. */
  start: number;
  /** Inclusive last byte. */
  end: number;
}

export interface GetObjectResult {
  metadata: ObjectMetadata;
  /** The requested range of the bytes (the whole object when no range was asked). */
  body: Readable;
  range?: ByteRange;
}

/**
 * Replicated object storage. Errors are StratusError: 'UnprocessableEntity' (422) for an ETag
 * mismatch, 'Unavailable' (503) when fewer than a quorum of replicas accepted a write,
 * 'RangeNotSatisfiable' (416) for an unsatisfiable range. A missing or deleted object is `null`, not an error.
 */
export interface ObjectBackend {
  /** Writes to every primary replica (handoffs for unreachable ones); succeeds on a quorum. */
  put(path: ObjectPath, input: PutObjectInput): Promise<ObjectMetadata>;
  /** Reads from a replica holding the newest version, falling back to the others. */
  get(path: ObjectPath, range?: ByteRange): Promise<GetObjectResult | null>;
  head(path: ObjectPath): Promise<ObjectMetadata | null>;
  /** Replaces userMeta and the POST-able sysMeta; returns the result or null when absent. */
  post(
    path: ObjectPath,
    meta: { userMeta: Record<string, string>; sysMeta: Record<string, string>; contentType?: string; timestamp: SwiftTimestamp },
  ): Promise<ObjectMetadata | null>;
  /** Writes a tombstone on every replica; false when no replica had the object. */
  delete(path: ObjectPath, timestamp: SwiftTimestamp): Promise<boolean>;
}
