import { router } from '../trpc/init';
import { identityRouter } from './identity';

/** One router per OpenStack service; each stays a thin adapter over packages/core. */
export const appRouter = router({
  identity: identityRouter,
});
export type AppRouter = typeof appRouter;
