import { chmod, mkdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { dirname } from 'node:path';
import {
  findServerByFixedIp,
  logger,
  metadataFor,
  metadataPath,
  refreshNodeUsage,
  registerComputeNode,
  registerPortResolver,
  syncPowerStates,
} from '@stratus/core';
import type { PrismaClient } from '@stratus/db';
import type { ComputeDriver } from '../../drivers/compute/types.ts';

/*
 * What a compute host runs besides jobs: its compute node (registered from the
 * driver's host facts at start), the periodic power-state sync, and the metadata
 * service the namespaces' metadata proxies forward to.
 */

export async function registerThisHost(db: PrismaClient, host: string, driver: ComputeDriver): Promise<void> {
  const info = await driver.hostInfo();
  await registerComputeNode(host, info, db);
  await refreshNodeUsage(host, db);
}

export function startPowerSync(
  db: PrismaClient,
  host: string,
  driver: ComputeDriver,
  everySeconds: number,
): () => void {
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      const domains = await driver.listDomains();
      const changed = await syncPowerStates(host, domains, db);
      if (changed) logger().info({ changed }, 'power-state sync updated servers');
      await refreshNodeUsage(host, db);
    } catch (err) {
      logger().warn({ err }, 'power-state sync failed');
    } finally {
      running = false;
    }
  };
  const t = setInterval(() => void tick(), everySeconds * 1000);
  return () => clearInterval(t);
}

/**
 * The metadata service on a unix socket. The proxy sets X-Forwarded-For (the guest's
 * address) and X-Stratus-Network-Id; tests may ask by X-Stratus-Server-Id directly when
 * the socket is only reachable by root.
 */
export async function startMetadataServer(socketPath: string): Promise<Server> {
  // A guest is found by its fixed IP on the network whose namespace proxy forwarded it.
  registerPortResolver(findServerByFixedIp);
  await mkdir(dirname(socketPath), { recursive: true });
  await rm(socketPath, { force: true });
  const server = createServer((req, res) => {
    const h = (n: string) => {
      const v = req.headers[n];
      return Array.isArray(v) ? v[0] : v;
    };
    void (async () => {
      const serverId = h('x-stratus-server-id');
      const ip = h('x-forwarded-for')?.split(',')[0]?.trim();
      const networkId = h('x-stratus-network-id');
      const lookup = serverId ? { serverId } : ip && networkId ? { fixedIp: ip, networkId } : undefined;
      if (!lookup) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('missing X-Forwarded-For / X-Stratus-Network-Id');
        return;
      }
      const docs = await metadataFor(lookup);
      const path = new URL(req.url ?? '/', 'http://metadata').pathname;
      const body = metadataPath(docs, path);
      if (body === undefined) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
        return;
      }
      res.writeHead(200, { 'content-type': path.endsWith('.json') ? 'application/json' : 'text/plain' }).end(body);
    })().catch((err: unknown) => {
      const notFound = err instanceof Error && err.name === 'StratusError';
      if (!notFound) logger().warn({ err }, 'metadata request failed');
      if (!res.headersSent) res.writeHead(notFound ? 404 : 500, { 'content-type': 'text/plain' });
      res.end(notFound ? 'Not Found' : 'Internal error');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  await chmod(socketPath, 0o600);
  return server;
}
