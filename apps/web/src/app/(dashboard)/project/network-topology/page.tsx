import type { Metadata } from 'next';
import { TopologyPanel } from './panel';

export const metadata: Metadata = { title: 'Network Topology' };

export default function Page() {
  return <TopologyPanel />;
}
