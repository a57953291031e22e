import { cloudsYaml } from '@/lib/openstack-files';
import { cliProfile, download, signedOut } from '../profile';

export const dynamic = 'force-dynamic';

export async function GET(req: Request) {
  const p = await cliProfile(req);
  return p ? download(cloudsYaml(p), 'clouds.yaml', 'application/yaml') : signedOut();
}
