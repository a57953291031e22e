// `./stratus purge`: removes what this state directory's cloud created on this host —
// the libvirt domains whose disks live under <stateDir>/instances and every dataplane
// object carrying this cloud's network marker. Run after the processes are stopped.
// Other clouds on the same host (other state dirs, other markers) are left alone.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '@stratus/core';
import { LibvirtDriver } from './drivers/compute/libvirt.ts';
import { LinuxNetworkDriver } from './drivers/network/linux.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`purge: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}

let failures = 0;
const compute = new LibvirtDriver({ stateDir: config.stateDir });
let instances: string[] = [];
try {
  instances = readdirSync(join(config.stateDir, 'instances')).filter((d) => UUID.test(d));
} catch {
  // no instances directory: nothing was ever built here
}
for (const uuid of instances) {
  try {
    await compute.destroy(uuid);
    process.stdout.write(`removed server ${uuid}\n`);
  } catch (err) {
    failures++;
    process.stderr.write(`purge: server ${uuid}: ${(err as Error).message}\n`);
  }
}

const network = new LinuxNetworkDriver({
  stateDir: join(config.stateDir, 'network'),
  metadataSocket: join(config.stateDir, 'run', 'metadata.sock'),
  marker: config.networkMarker,
});
try {
  const removed = await network.cleanup({});
  const n = Object.values(removed).reduce((sum, v) => sum + (Array.isArray(v) ? v.length : 0), 0);
  process.stdout.write(`removed ${n} dataplane objects with marker ${config.networkMarker}\n`);
} catch (err) {
  failures++;
  process.stderr.write(`purge: network: ${(err as Error).message}\n`);
}
process.exit(failures ? 1 : 0);
