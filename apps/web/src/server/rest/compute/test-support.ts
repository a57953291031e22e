/*
 * For the compute REST integration tests: one JSON call against a test server's /compute
 * mount with a token, an optional body and an optional microversion.
 */

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
export type Json = Record<string, any>;

export interface ComputeCallOptions {
  token: string;
  body?: unknown;
  /** A compute microversion, sent as `OpenStack-API-Version: compute <v>`. */
  version?: string;
}

/** `call(method, path, opts)` against `${base()}/compute`; `base` is read per call (set in beforeAll). */
export function computeCaller(base: () => string) {
  return async (method: string, path: string, opts: ComputeCallOptions): Promise<{ status: number; json: Json }> => {
    const res = await fetch(`${base()}/compute${path}`, {
      method,
      headers: {
        'x-auth-token': opts.token,
        ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(opts.version ? { 'openstack-api-version': `compute ${opts.version}` } : {}),
      },
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, json: (text ? JSON.parse(text) : {}) as Json };
  };
}
