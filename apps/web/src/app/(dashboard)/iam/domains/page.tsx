import type { Metadata } from 'next';
import { DomainsPanel } from './panel';

export const metadata: Metadata = { title: 'Domains' };

export default function Page() {
  return <DomainsPanel />;
}
