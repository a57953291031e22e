import type { Metadata } from 'next';
import { RolesPanel } from './panel';

export const metadata: Metadata = { title: 'Roles' };

export default function Page() {
  return <RolesPanel />;
}
