import type { PrismaClient, Tx } from '@stratus/db';
import { StratusError } from '../../platform/errors.ts';
import { runtime } from '../../platform/runtime.ts';
import type { ObjectBackend } from '../backend.ts';

/*
 * Where the API layer's state lives: PostgreSQL for accounts, containers and listings
 * (runtime's client) and the replicated object backend for the bytes. The backend is
 * set once per process by the entry point (web server, worker) or a test.
 */
let backend: ObjectBackend | undefined;
let backendFactory: (() => ObjectBackend) | undefined;

export function setObjectBackend(b: ObjectBackend | undefined): void {
  backend = b;
}

/** Lazily creates the backend on first use (entry points register how). */
export function setObjectBackendFactory(f: (() => ObjectBackend) | undefined): void {
  backendFactory = f;
  backend = undefined;
}

export function hasObjectBackend(): boolean {
  return backend !== undefined || backendFactory !== undefined;
}

export function objectBackend(): ObjectBackend {
  if (!backend && backendFactory) backend = backendFactory();
  if (!backend) throw new StratusError('Unavailable', 'Object storage is not configured in this process.');
  return backend;
}

export function db(): PrismaClient {
  return runtime().db;
}

/** Short interactive transactions; many run in parallel on one container. */
export function transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db().$transaction(fn, { maxWait: 30_000, timeout: 30_000 });
}
