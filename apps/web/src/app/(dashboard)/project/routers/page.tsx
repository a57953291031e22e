import type { Metadata } from 'next';
import { RoutersPanel } from './panel';

export const metadata: Metadata = { title: 'Routers' };

export default function Page() {
  return <RoutersPanel />;
}
