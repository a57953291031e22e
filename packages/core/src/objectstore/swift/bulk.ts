import { isStratusError, StratusError } from '../../platform/errors.ts';
import type { ObjectCaller } from './access.ts';
import { LIMITS } from './constants.ts';
import { deleteContainer } from './containers.ts';
import { deleteObject } from './objects.ts';

/*
 * Bulk delete (POST ?bulk-delete): a list of "/container/object" or "/container"
 * paths (already URL-decoded), deleted one by one with the caller's rights; a
 * container is deleted only when empty (listed after its objects, that works).
 */
export interface BulkDeleteResult {
  deleted: number;
  notFound: number;
  errors: Array<{ name: string; status: string }>;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  409: 'Conflict',
  412: 'Precondition Failed',
  503: 'Service Unavailable',
};

export async function bulkDelete(caller: ObjectCaller, account: string, paths: string[]): Promise<BulkDeleteResult> {
  if (paths.length > LIMITS.maxDeletesPerRequest) {
    throw new StratusError('QuotaExceeded', `Maximum Bulk Deletes: ${LIMITS.maxDeletesPerRequest} per request`);
  }
  const out: BulkDeleteResult = { deleted: 0, notFound: 0, errors: [] };
  for (const raw of paths) {
    const path = raw.replace(/^\/+/, '');
    if (!path) continue;
    const i = path.indexOf('/');
    const container = i < 0 ? path : path.slice(0, i);
    const object = i < 0 ? '' : path.slice(i + 1);
    try {
      if (object) await deleteObject(caller, { account, container, object });
      else await deleteContainer(caller, account, container);
      out.deleted += 1;
    } catch (err) {
      if (isStratusError(err) && err.code === 'NotFound') out.notFound += 1;
      else {
        const status = isStratusError(err) ? err.status : 500;
        out.errors.push({ name: `/${path}`, status: `${status} ${STATUS_TEXT[status] ?? 'Internal Error'}` });
        if (out.errors.length >= LIMITS.maxFailedDeletes) break;
      }
    }
  }
  return out;
}
