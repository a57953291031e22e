import { REGION } from '@stratus/core/identity/bootstrap';
import type { CliProfile } from '@/lib/openstack-files';
import { currentAuth } from '@/server/auth';

/** The signed-in caller's CLI profile; the auth URL is where this browser reached Stratus. */
export async function cliProfile(req: Request): Promise<CliProfile | null> {
  const auth = await currentAuth();
  if (!auth) return null;
  const h = req.headers;
  const host = h.get('x-forwarded-host') ?? h.get('host') ?? new URL(req.url).host;
  const proto = h.get('x-forwarded-proto') ?? new URL(req.url).protocol.replace(':', '');
  return {
    authUrl: `${proto}://${host}/identity/v3`,
    region: REGION,
    userName: auth.userName,
    userDomainId: auth.domainId,
    projectId: auth.projectId,
    projectName: auth.projectName,
  };
}

export function download(body: string, filename: string, type: string): Response {
  return new Response(body, {
    headers: {
      'content-type': `${type}; charset=utf-8`,
      'content-disposition': `attachment; filename="${filename}"`,
      'cache-control': 'no-store',
    },
  });
}

export const signedOut = () => Response.json({ error: 'Sign in to download your CLI files.' }, { status: 401 });
