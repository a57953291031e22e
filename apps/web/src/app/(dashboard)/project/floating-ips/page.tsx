import type { Metadata } from 'next';
import { FloatingIpsPanel } from './panel';

export const metadata: Metadata = { title: 'Floating IPs' };

export default function Page() {
  return <FloatingIpsPanel />;
}
