import type { Metadata } from 'next';
import { SnapshotsPanel } from './panel';

export const metadata: Metadata = { title: 'Volume snapshots' };

export default function Page() {
  return <SnapshotsPanel />;
}
