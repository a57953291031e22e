import type { Metadata } from 'next';
import Link from 'next/link';
import { QuotaUsage } from '@/components/compute/quota-usage';
import { Icon } from '@/components/icons';
import { Badge, Card, PageHeader } from '@/components/ui';
import { NAV } from '@/lib/nav';
import { currentAuth } from '@/server/auth';

export const metadata: Metadata = { title: 'Project overview' };

export default async function ProjectOverview() {
  const auth = await currentAuth();
  if (!auth) return null;
  const panels = NAV.find((s) => s.id === 'project')?.items.filter((i) => i.href !== '/project') ?? [];
  return (
    <>
      <PageHeader
        title={auth.projectName ?? 'No project'}
        description={
          auth.projectName
            ? 'Project overview'
            : 'You have no role on any project yet. Ask an administrator to add you to one.'
        }
      />
      <div className="grid gap-6 lg:grid-cols-3">
        <div className="lg:col-span-2">
          {auth.projectId ? (
            <QuotaUsage />
          ) : (
            <p className="text-sm text-slate-500 dark:text-slate-400">Quota usage appears once you have a project.</p>
          )}
        </div>
        <div className="space-y-6 lg:col-span-1">
          <Card title="Your access" className="h-fit">
            <dl className="space-y-3 text-sm">
              <div>
                <dt className="text-slate-500 dark:text-slate-400">User</dt>
                <dd className="font-medium">{auth.userName}</dd>
              </div>
              <div>
                <dt className="text-slate-500 dark:text-slate-400">Project ID</dt>
                <dd className="font-mono text-xs break-all">{auth.projectId ?? '—'}</dd>
              </div>
              <div>
                <dt className="text-slate-500 dark:text-slate-400">Roles</dt>
                <dd data-testid="roles" className="mt-1 flex flex-wrap gap-1.5">
                  {auth.roles.length
                    ? auth.roles.map((r) => (
                        <Badge key={r} tone={r === 'admin' ? 'amber' : 'sky'}>
                          {r}
                        </Badge>
                      ))
                    : '—'}
                </dd>
              </div>
              <div>
                <dt className="text-slate-500 dark:text-slate-400">Session token expires</dt>
                <dd>
                  <time dateTime={auth.expiresAt.toISOString()}>
                    {auth.expiresAt.toISOString().replace('T', ' ').slice(0, 16)} UTC
                  </time>
                </dd>
              </div>
            </dl>
          </Card>
        </div>
        <Card title="Services" className="lg:col-span-3">
          <ul className="grid gap-3 sm:grid-cols-2">
            {panels.map((i) => (
              <li key={i.href}>
                <Link
                  href={i.href}
                  className="group flex items-start gap-3 rounded-lg p-2 hover:bg-slate-50 dark:hover:bg-slate-800/60"
                >
                  <span className="grid size-8 shrink-0 place-items-center rounded-lg bg-slate-100 text-slate-500 group-hover:bg-sky-50 group-hover:text-sky-600 dark:bg-slate-800 dark:group-hover:bg-sky-500/10">
                    <Icon name={i.icon} className="size-4" />
                  </span>
                  <span>
                    <span className="text-sm font-medium">{i.label}</span>
                    <span className="block text-xs text-slate-500 dark:text-slate-400">{i.about}</span>
                  </span>
                </Link>
              </li>
            ))}
          </ul>
        </Card>
      </div>
    </>
  );
}
