import { router } from '../trpc/init';
import { adminRouter } from './admin';
import { computeRouter } from './compute';
import { identityRouter } from './identity';
import { imageRouter } from './image';
import { networkRouter } from './network';
import { objectStoreRouter } from './objectstore';
import { volumeRouter } from './volume';

/** One router per OpenStack service; each stays a thin adapter over packages/core. */
export const appRouter = router({
  identity: identityRouter,
  compute: computeRouter,
  image: imageRouter,
  network: networkRouter,
  volume: volumeRouter,
  objectStore: objectStoreRouter,
  admin: adminRouter,
});
export type AppRouter = typeof appRouter;
