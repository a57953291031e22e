import type { Metadata } from 'next';
import { AggregatesPanel } from './panel';

export const metadata: Metadata = { title: 'Host aggregates' };

export default function Page() {
  return <AggregatesPanel />;
}
