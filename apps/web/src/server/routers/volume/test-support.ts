import type { AuthContext } from '@stratus/core/identity/index';
import { getPrisma } from '@stratus/db';
import { TRPCError } from '@trpc/server';
import { testDb } from '../../../../../../test/helpers.ts';
import { createCallerFactory } from '../../trpc/init';
import { volumeRouter } from './index';

/*
 * What the volume router tests share: the router as the dashboard calls it, the test
 * database, the worker's "create finished" step, and a refusal's tRPC code and message.
 * The backend and type come from core's volumeTestBackend (core/volume/test-support.ts).
 */
export const caller = (auth: AuthContext) => createCallerFactory(volumeRouter)({ auth });
export const db = () => getPrisma(testDb().url);

/** What the worker's create job ends with. */
export const finish = (id: string) => db().volume.update({ where: { id }, data: { status: 'available' } });

export async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  if (!(e instanceof TRPCError)) throw new Error(`expected a TRPCError, got ${String(e)}`);
  return { code: e.code, message: e.message };
}
