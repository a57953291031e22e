import type { IncomingMessage, ServerResponse } from 'node:http';

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const data = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(data),
    ...headers,
  });
  res.end(data);
}

/** A REST handler for one URL prefix (an OpenStack service). Returns false if it did not match. */
export type RestHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean | undefined>;
export interface RestMount {
  prefix: string;
  handler: RestHandler;
}
