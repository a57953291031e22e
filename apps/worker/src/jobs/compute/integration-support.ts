import { type AuthContext, createServers, getServer, type Server } from '@stratus/core';
import { adminContext, setupIdentityTest } from '@stratus/core/identity/test-support';
import type { Runner } from 'graphile-worker';
import { expect } from 'vitest';
import { testDb, waitFor } from '../../../../../test/helpers.ts';
import type { FakeComputeDriver } from './fake-driver.ts';
import { FAKE_IMAGE_ID, fakeHost, keepAlive, startComputeWorker, useFakeImage } from './test-support.ts';

/*
 * For the compute jobs' integration tests (vitest only; benchmarks use test-support.ts):
 * fake compute hosts with their workers, waiting for a server's state and booting one on
 * a named fake host, and a test file's whole start (setupFakeComputeTest).
 */

/** Waits until the server is `status` with no task; a server gone to ERROR fails at once. */
export async function untilStatus(ctx: AuthContext, id: string, status: string): Promise<Server> {
  return waitFor(
    async () => {
      const s = await getServer(ctx, id);
      if (s.status === 'ERROR' && status !== 'ERROR') throw new Error(`server went to ERROR: ${s.fault?.message}`);
      return s.status === status && s.taskState === null ? s : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 50, what: `server ${id} ${status}` },
  );
}

/**
 * Boots a server of the fake image on `host` (forced through the zone: other test files'
 * hosts may be registered without a worker, and forcing a host needs an admin) and waits
 * for ACTIVE there.
 */
export async function bootOnHost(
  ctx: AuthContext,
  o: { name: string; flavorRef: string; host: string },
): Promise<string> {
  const { servers } = await createServers(ctx, {
    name: o.name,
    imageRef: FAKE_IMAGE_ID,
    flavorRef: o.flavorRef,
    availabilityZone: `nova:${o.host}`,
  });
  const id = servers[0]?.id ?? '';
  const s = await untilStatus(ctx, id, 'ACTIVE');
  expect(s.host).toBe(o.host);
  return id;
}

/** Fake compute hosts, each with its queue worker and heartbeats; stop() ends them all. */
export interface FakeComputeHosts {
  drivers: Map<string, FakeComputeDriver>;
  stop(): Promise<void>;
}

/** Registers `hosts` as up compute hosts with a FakeComputeDriver each (`driverFor`'s, or a large default). */
export async function startFakeComputeHosts(
  url: string,
  hosts: string[],
  driverFor?: (host: string) => FakeComputeDriver,
): Promise<FakeComputeHosts> {
  const drivers = new Map<string, FakeComputeDriver>();
  const runners: Runner[] = [];
  for (const h of hosts) {
    const d = await fakeHost(url, h, driverFor?.(h));
    drivers.set(h, d);
    runners.push(await startComputeWorker(url, h, d));
  }
  const beat = keepAlive(url, hosts);
  return {
    drivers,
    async stop() {
      clearInterval(beat);
      await Promise.all(runners.map((r) => r.stop()));
    },
  };
}

/**
 * A compute test file's start: identity in this file's database, the fake image, the admin
 * the tests act as, and `hosts` as fake compute hosts with their workers (stop() them).
 */
export async function setupFakeComputeTest(
  hosts: string[],
  driverFor?: (host: string) => FakeComputeDriver,
): Promise<{ url: string; admin: AuthContext; hosts: FakeComputeHosts }> {
  const { url } = testDb();
  await setupIdentityTest(url);
  useFakeImage();
  const admin = await adminContext();
  return { url, admin, hosts: await startFakeComputeHosts(url, hosts, driverFor) };
}
