import type { Metadata } from 'next';
import { FlavorsPanel } from './panel';

export const metadata: Metadata = { title: 'Flavors' };

export default function Page() {
  return <FlavorsPanel />;
}
