import { join } from 'node:path';
import {
  databaseUrl,
  defineJob,
  desiredState,
  enqueueJob,
  loadConfig,
  logger,
  markSynced,
  markSyncFailed,
  networkSyncJobDef,
  publishTunnelEndpoint,
  type DesiredState,
  type JobDefinition,
} from '@stratus/core';
import { getPrisma } from '@stratus/db';
import { LinuxNetworkDriver } from '../drivers/network/linux.ts';
import type { NetworkDriver } from '../drivers/network/types.ts';

/*
 * The network agent: one host-bound job, `network.sync`, that converges this host's
 * dataplane to the database. Every run is a full pass (desired state → driver ensure*
 * → cleanup of anything else the driver owns), so it is idempotent, repairs drift and
 * rebuilds everything after a restart. Core enqueues it (deduplicated per host) in
 * the same transaction as each API change that affects the dataplane.
 */

export interface NetworkDeps {
  host: string;
  driver: NetworkDriver;
  /**
   * This host's VXLAN endpoint, published at every pass so the other hosts tunnel to it
   * (the driver must be built with the same address). Absent: withdrawn, no tunnels.
   */
  tunnelIp?: string;
}

let deps: NetworkDeps | undefined;
export function networkDeps(): NetworkDeps {
  if (!deps) {
    const config = loadConfig();
    const tunnelIp = config.networkTunnelIp;
    deps = {
      host: config.host,
      driver: new LinuxNetworkDriver({
        stateDir: join(config.stateDir, 'network'),
        metadataSocket: config.metadataSocket ?? join(config.stateDir, 'run', 'metadata.sock'),
        marker: config.networkMarker,
        ...(tunnelIp
          ? { vxlan: { localIp: tunnelIp, dev: config.networkTunnelDev, port: config.networkTunnelPort } }
          : {}),
      }),
      ...(tunnelIp ? { tunnelIp } : {}),
    };
  }
  return deps;
}

/** One full pass; returns the state it applied. */
export async function syncHost(d: NetworkDeps): Promise<DesiredState> {
  // Our endpoint first: the peers computed below (ours and, re-synced, the others') use it.
  await publishTunnelEndpoint(d.host, d.tunnelIp ?? null);
  const state = await desiredState(d.host);
  const log = logger().child({ agent: 'network', host: d.host });
  try {
    for (const e of state.externals) await d.driver.ensureExternalNetwork(e);
    for (const n of state.networks) await d.driver.ensureNetwork(n);
    for (const x of state.dhcp) await d.driver.ensureDhcp(x);
    for (const p of state.ports) await d.driver.ensurePort(p);
    for (const r of state.routers) await d.driver.ensureRouter(r);
    const removed = await d.driver.cleanup({
      networks: [...state.networks.map((n) => n.id), ...state.externals.map((e) => e.id)],
      dhcp: state.dhcp.map((x) => x.networkId),
      ports: state.ports.map((p) => p.id),
      routers: state.routers.map((r) => r.id),
    });
    if (
      removed.networks.length +
        removed.routers.length +
        removed.ports.length +
        removed.dhcp.length +
        removed.links.length >
      0
    )
      log.info({ removed }, 'network agent removed stale dataplane objects');
  } catch (err) {
    await markSyncFailed(
      d.host,
      state.ports.map((p) => p.id),
    ).catch(() => {});
    throw err;
  }
  await markSynced(d.host, state);
  return state;
}

/**
 * One pass at a time in this process: the queued `network.sync` job and a build that
 * wants its ports wired before the guest boots (ComputeDeps.syncNetwork) share it.
 */
let passes: Promise<unknown> = Promise.resolve();
export function syncHostSerialized(d: NetworkDeps): Promise<DesiredState> {
  const run = passes.then(
    () => syncHost(d),
    () => syncHost(d),
  );
  passes = run.catch(() => undefined);
  return run;
}

export function networkJobsWith(get: () => NetworkDeps): JobDefinition[] {
  const sync = defineJob({
    ...networkSyncJobDef,
    handler: async () => {
      await syncHostSerialized(get());
    },
  });
  return [sync];
}

/** Asks this host's agent for a full pass (worker start: rebuild after a restart). */
export async function requestStartupSync(host: string): Promise<void> {
  const db = getPrisma(databaseUrl(loadConfig()));
  await db.$transaction((tx) =>
    enqueueJob(tx, networkSyncJobDef, { reason: 'worker start' }, { host, jobKey: `network.sync@${host}` }),
  );
}

export const networkJobs: JobDefinition[] = networkJobsWith(networkDeps);
