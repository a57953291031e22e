// Runs the embedded PostgreSQL in the foreground until SIGTERM/SIGINT: the start
// script launches it in the background when DATABASE_URL is not set.
import { z } from 'zod';
import { startEmbeddedPostgres } from '../embedded.ts';

const Args = z.object({
  dir: z.string().min(1),
  port: z.coerce.number().int().min(1).max(65535),
});
const args = Args.safeParse({ dir: process.env.STRATUS_PG_DIR, port: process.env.STRATUS_PG_PORT });
if (!args.success) {
  process.stderr.write(`stratus postgres: ${args.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}\n`);
  process.exit(2);
}
try {
  const pg = await startEmbeddedPostgres({
    dir: args.data.dir,
    port: args.data.port,
    log: (line) => process.stdout.write(`[postgres] ${line}\n`),
  });
  process.stdout.write(`embedded PostgreSQL ready on 127.0.0.1:${args.data.port}\n`);
  const stop = async () => {
    await pg.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  setInterval(() => {}, 1 << 30);
} catch (err) {
  process.stderr.write(`stratus postgres: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
