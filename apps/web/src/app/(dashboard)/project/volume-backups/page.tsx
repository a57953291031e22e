import type { Metadata } from 'next';
import { BackupsPanel } from './panel';

export const metadata: Metadata = { title: 'Volume backups' };

export default function Page() {
  return <BackupsPanel />;
}
