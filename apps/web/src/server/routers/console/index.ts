import { consoleTypeFor, createConsole, getConsoleLog } from '@stratus/core/console/index';
import { z } from 'zod';
import { protectedProcedure, router } from '../../trpc/init';

/**
 * Remote consoles. Mount as `compute.console` (so the client calls
 * `compute.console.create`): `compute: router({ ..., console: consoleRouter })`.
 */
export const consoleRouter = router({
  /** A single-use console token for the current user; give `token` to VncConsole/SerialConsole. */
  create: protectedProcedure
    .input(z.object({ serverId: z.string().min(1), protocol: z.enum(['vnc', 'serial']) }))
    .mutation(async ({ ctx, input }) => {
      const c = await createConsole(ctx.auth, { serverId: input.serverId, protocol: input.protocol, type: consoleTypeFor(input.protocol) });
      return { protocol: c.protocol, type: c.type, url: c.url, token: c.token, expiresAt: c.expiresAt.toISOString() };
    }),
  /** The last `lines` lines of the serial console log (Nova's os-getConsoleOutput). */
  log: protectedProcedure
    .input(z.object({ serverId: z.string().min(1), lines: z.number().int().min(1).max(10000).optional() }))
    .query(async ({ ctx, input }) => ({ output: await getConsoleLog(ctx.auth, input) })),
});
