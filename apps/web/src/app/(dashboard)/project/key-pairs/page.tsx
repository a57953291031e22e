import type { Metadata } from 'next';
import { KeyPairsPanel } from './panel';

export const metadata: Metadata = { title: 'Key Pairs' };

export default function Page() {
  return <KeyPairsPanel />;
}
