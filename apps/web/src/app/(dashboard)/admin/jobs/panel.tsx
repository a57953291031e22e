'use client';
import { useQuery } from '@tanstack/react-query';
import { DataTable } from '@/components/data-table';
import { PageHeader } from '@/components/ui';
import { useTRPC } from '@/lib/trpc';

export function DeadJobsPanel() {
  const trpc = useTRPC();
  const query = useQuery(trpc.admin.deadJobs.queryOptions({ limit: 100 }));
  return (
    <>
      <PageHeader
        title="Failed jobs"
        description="Background jobs that used all their attempts. Each was retried with backoff before it landed here."
      />
      <DataTable
        label="Failed jobs"
        rows={query.data}
        rowKey={(j) => j.id}
        loading={query.isLoading}
        error={query.error}
        empty="No failed jobs."
        columns={[
          { header: 'Job', cell: (j) => <code className="text-xs">{j.taskIdentifier}</code> },
          { header: 'Attempts', cell: (j) => `${j.attempts} / ${j.maxAttempts}`, className: 'tabular-nums' },
          {
            header: 'Last error',
            cell: (j) => <span className="text-rose-700 dark:text-rose-300">{j.lastError ?? '—'}</span>,
          },
          { header: 'Created', cell: (j) => new Date(j.createdAt).toLocaleString(), className: 'hidden md:table-cell' },
        ]}
      />
    </>
  );
}
