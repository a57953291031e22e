import { startObjectServer } from './server.ts';

/*
 * An object server as its own process (tests and benchmarks, where the proxy's memory and CPU
 * must be measured apart from the servers'): node --import tsx server-main.ts <devicesRoot> [port]
 * Prints {"port":N} on stdout once listening; stops on SIGTERM.
 */
const [root, portArg] = process.argv.slice(2);
if (!root) {
  process.stderr.write('usage: server-main.ts <devicesRoot> [port]\n');
  process.exit(2);
}
const server = await startObjectServer({ devicesRoot: root, port: Number(portArg ?? 0) });
process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
const stop = () => void server.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
// Started with a pipe on stdin by a parent (tests, benchmarks): when the parent dies, so do we.
if (!process.stdin.isTTY) {
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}
