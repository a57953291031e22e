'use client';
import Link from 'next/link';
import type { Column, RowAction } from '../data-table';
import { allows, type ServerActionDef, type ServerRow } from './actions';
import { age, formatRam, ServerStatus, taskLabel } from './status';

/*
 * What the project's instance list and the admin's all-instances list share: the server
 * columns, the row attributes and the actions menu. Each list picks its columns and adds
 * its own (selection, power, image; project, host).
 */

/** The status filter of both lists. */
export const SERVER_STATUSES = ['ACTIVE', 'BUILD', 'SHUTOFF', 'ERROR', 'PAUSED', 'SUSPENDED', 'REBOOT', 'HARD_REBOOT'];

/** The fields the shared columns and actions read; both lists' rows have them. */
export type ListedServer = Pick<
  ServerRow,
  'id' | 'name' | 'locked' | 'status' | 'fault' | 'vmState' | 'taskState' | 'powerState' | 'flavor' | 'createdAt'
> & { addresses: Array<{ addr: string; network: string; type?: string | null }> };

const none = <span className="text-slate-400">—</span>;

/** The shared columns, by header. */
export function serverColumns<T extends ListedServer>(now: number) {
  return {
    name: {
      header: 'Name',
      className: 'max-w-xs',
      cell: (r) => (
        <>
          <Link
            href={`/project/instances/${r.id}`}
            className="font-medium whitespace-nowrap text-slate-900 hover:text-sky-600 dark:text-slate-100"
          >
            {r.name}
          </Link>
          {r.locked && <span className="ml-1.5 text-xs text-amber-600">locked</span>}
          {r.status === 'ERROR' && r.fault && (
            <p data-testid="server-fault" className="mt-1 text-xs break-words text-rose-600 dark:text-rose-400">
              {r.fault.message}
            </p>
          )}
        </>
      ),
    },
    status: { header: 'Status', cell: (r) => <ServerStatus status={r.status} taskState={r.taskState} /> },
    task: {
      header: 'Task',
      className: 'whitespace-nowrap text-slate-600 dark:text-slate-300',
      cell: (r) => <span data-testid="server-task">{taskLabel(r.taskState) ?? none}</span>,
    },
    addresses: {
      header: 'IP addresses',
      className: 'hidden lg:table-cell',
      cell: (r) =>
        r.addresses.length ? (
          <ul className="space-y-0.5 font-mono text-xs">
            {r.addresses.map((a) => (
              <li key={a.addr} title={a.network}>
                {a.addr}
                {a.type === 'floating' && <span className="ml-1 text-sky-600">floating</span>}
              </li>
            ))}
          </ul>
        ) : (
          none
        ),
    },
    flavor: {
      header: 'Flavor',
      className: 'hidden whitespace-nowrap lg:table-cell',
      cell: (r) => (
        <>
          <div>{r.flavor.name}</div>
          <div className="text-xs text-slate-500">
            {r.flavor.vcpus} vCPU · {formatRam(r.flavor.ramMb)}
          </div>
        </>
      ),
    },
    age: {
      header: 'Age',
      className: 'whitespace-nowrap text-slate-500',
      cell: (r) => <span title={r.createdAt}>{age(r.createdAt, now)}</span>,
    },
  } satisfies Record<string, Column<T>>;
}

/** A server row's attributes: its test id plus id and name, for tests and scripts. */
export const serverRowProps =
  (testId: string) =>
  (r: ListedServer): { [k: `data-${string}`]: string } => ({
    'data-testid': testId,
    'data-server-id': r.id,
    'data-name': r.name,
  });

/** The menu of a server row: its page, then the `defs` its state allows now. */
export function serverActions<T extends ListedServer>(
  defs: readonly ServerActionDef[],
  onAction: (def: ServerActionDef, row: T) => void,
): RowAction<T>[] {
  return [
    { label: 'Details', href: (r) => `/project/instances/${r.id}` },
    ...defs.map((def) => ({
      label: def.label,
      danger: def.danger,
      hidden: (r: T) => !allows(def, r),
      onSelect: (r: T) => onAction(def, r),
    })),
  ];
}

export const serverActionsLabel = (r: ListedServer) => `Actions for ${r.name}`;
