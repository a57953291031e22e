import type { Metadata } from 'next';
import { DeadJobsPanel } from './panel';

export const metadata: Metadata = { title: 'Failed jobs' };

export default function Page() {
  return <DeadJobsPanel />;
}
