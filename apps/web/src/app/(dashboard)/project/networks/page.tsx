import type { Metadata } from 'next';
import { NetworksPanel } from './panel';

export const metadata: Metadata = { title: 'Networks' };

export default function Page() {
  return <NetworksPanel />;
}
