import type { Metadata } from 'next';
import { AdminServerTable } from '@/components/admin/server-table';
import { PageHeader } from '@/components/ui';

export const metadata: Metadata = { title: 'All instances' };

export default function Page() {
  return (
    <>
      <PageHeader
        title="All instances"
        description="Every project's servers with their host. Status changes arrive live; actions here act on the project's server."
      />
      <AdminServerTable />
    </>
  );
}
