import { openrc } from '@/lib/openstack-files';
import { cliProfile, download, signedOut } from '../profile';

export const dynamic = 'force-dynamic';

export async function GET(req: Request) {
  const p = await cliProfile(req);
  if (!p) return signedOut();
  const name = `${(p.projectName ?? 'stratus').replace(/[^A-Za-z0-9_.-]/g, '_')}-openrc.sh`;
  return download(openrc(p), name, 'text/x-shellscript');
}
