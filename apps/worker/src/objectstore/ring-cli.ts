/*
 * Operator commands for the object ring (docs/object-storage.md, "Ring"):
 *   node --import tsx apps/worker/src/objectstore/ring-cli.ts show
 *   node --import tsx apps/worker/src/objectstore/ring-cli.ts weight <device id> <weight>   (0 drains)
 *   node --import tsx apps/worker/src/objectstore/ring-cli.ts remove <device id>
 *   node --import tsx apps/worker/src/objectstore/ring-cli.ts rebalance
 * Same configuration as the worker (STRATUS_STATE_DIR / DATABASE_URL). Every change is one
 * transaction and reaches every node through `objectring.updated`.
 */
import {
  assignedCounts,
  exitWithError,
  loadRing,
  rebalanceRing,
  removeRingDevice,
  ringBalance,
  setRingDeviceWeight,
  startRuntime,
  wantedParts,
} from '@stratus/core';
import { closePrisma } from '@stratus/db';

const PROGRAM = 'stratus-object-ring';
const [cmd = 'show', ...args] = process.argv.slice(2);
const { db } = await startRuntime(PROGRAM);

const num = (s: string | undefined, what: string) => {
  const n = Number(s);
  if (s === undefined || !Number.isFinite(n)) exitWithError(PROGRAM, `${what} must be a number`);
  return n;
};

try {
  if (cmd === 'show') {
    const ring = await loadRing(db);
    if (!ring) exitWithError(PROGRAM, 'no object ring yet: start a worker with the object role');
    const counts = assignedCounts(ring.data);
    const wanted = wantedParts(ring.data);
    process.stdout.write(
      `ring version ${ring.version}: ${ring.parts} partitions × ${ring.replicas} replicas, min_part_hours ${ring.data.minPartHours}, balance ${ringBalance(ring.data).toFixed(2)} %\n`,
    );
    process.stdout.write('id  zone  weight  host:port/device                      parts  wanted\n');
    for (const d of ring.devices) {
      const addr = `${d.host}:${d.port}/${d.device}`.padEnd(36);
      process.stdout.write(
        `${String(d.id).padEnd(3)} ${String(d.zone).padEnd(5)} ${String(d.weight).padEnd(7)} ${addr}  ${String(counts.get(d.id) ?? 0).padEnd(6)} ${(wanted.get(d.id) ?? 0).toFixed(1)}\n`,
      );
    }
  } else if (cmd === 'weight') {
    const r = await setRingDeviceWeight(db, num(args[0], 'device id'), num(args[1], 'weight'));
    process.stdout.write(`ring version ${r.version}: ${r.moved} partition-replicas reassigned\n`);
  } else if (cmd === 'remove') {
    const r = await removeRingDevice(db, num(args[0], 'device id'));
    process.stdout.write(`ring version ${r.version}: ${r.moved} partition-replicas reassigned\n`);
  } else if (cmd === 'rebalance') {
    const r = await rebalanceRing(db);
    process.stdout.write(
      `ring version ${r.version}: ${r.moved} partition-replicas reassigned, balance ${r.balance.toFixed(2)} %\n`,
    );
  } else {
    exitWithError(PROGRAM, `unknown command ${cmd} (show, weight, remove, rebalance)`);
  }
} catch (err) {
  exitWithError(PROGRAM, err instanceof Error ? err.message : String(err));
} finally {
  await closePrisma();
}
