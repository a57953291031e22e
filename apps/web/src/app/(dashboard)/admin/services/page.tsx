import type { Metadata } from 'next';
import { ServicesPanel } from './panel';

export const metadata: Metadata = { title: 'Compute services' };

export default function Page() {
  return <ServicesPanel />;
}
