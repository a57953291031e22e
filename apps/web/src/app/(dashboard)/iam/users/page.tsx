import type { Metadata } from 'next';
import { UsersPanel } from './panel';

export const metadata: Metadata = { title: 'Users' };

export default function Page() {
  return <UsersPanel />;
}
