import { router } from '../../trpc/init';
import { accountRouter, containersRouter } from './containers';
import { objectsRouter } from './objects';

/*
 * The Object Store browser: a thin adapter over the Swift core (packages/core/src/objectstore/swift),
 * always on the session's own account. Object bytes do not pass through tRPC: the browser
 * uploads with PUT to /object-store/v1/AUTH_<project>/… (the REST API, with its token) and
 * downloads through /project/object-store/download (a streamed same-origin route).
 */
export const objectStoreRouter = router({
  account: accountRouter,
  containers: containersRouter,
  objects: objectsRouter,
});
