import type { Metadata } from 'next';
import { HypervisorsPanel } from './panel';

export const metadata: Metadata = { title: 'Hypervisors' };

export default function Page() {
  return <HypervisorsPanel />;
}
