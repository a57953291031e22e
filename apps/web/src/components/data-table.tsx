'use client';
import { type ReactNode, useEffect, useState } from 'react';
import { Icon } from './icons';
import { Menu, MenuItem } from './menu';
import { Button, Input, Spinner } from './ui';

export interface Column<T> {
  header: string;
  cell: (row: T) => ReactNode;
  className?: string;
}
export interface RowAction<T> {
  label: string;
  onSelect: (row: T) => void;
  danger?: boolean;
  hidden?: (row: T) => boolean;
}

/**
 * A resource list: filter, table, row actions and marker paging. The caller owns the
 * query; this only draws it.
 */
export function DataTable<T>({
  label,
  columns,
  rows,
  rowKey,
  loading,
  error,
  actions = [],
  empty = 'Nothing here yet.',
  filter,
  paging,
}: {
  label: string;
  columns: Column<T>[];
  rows: T[] | undefined;
  rowKey: (row: T) => string;
  loading: boolean;
  error?: { message: string } | null;
  actions?: RowAction<T>[];
  empty?: ReactNode;
  filter?: { value: string; onChange: (v: string) => void; placeholder: string };
  paging?: { page: number; hasPrevious: boolean; hasNext: boolean; onPrevious: () => void; onNext: () => void };
}) {
  return (
    <div className="overflow-hidden rounded-xl border border-slate-200 bg-white shadow-xs dark:border-slate-800 dark:bg-slate-900">
      {filter && <FilterBar {...filter} />}
      <div className="overflow-x-auto">
        <table className="min-w-full divide-y divide-slate-200 text-sm dark:divide-slate-800" aria-label={label}>
          <thead className="bg-slate-50 dark:bg-slate-900/80">
            <tr>
              {columns.map((c) => (
                <th
                  key={c.header}
                  scope="col"
                  className={`px-4 py-2.5 text-left text-xs font-semibold uppercase tracking-wide text-slate-500 dark:text-slate-400 ${c.className ?? ''}`}
                >
                  {c.header}
                </th>
              ))}
              {actions.length > 0 && (
                <th scope="col" className="w-12 px-4 py-2.5">
                  <span className="sr-only">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100 dark:divide-slate-800/70">
            {loading && !rows && (
              <tr>
                <td colSpan={columns.length + 1} className="px-4 py-10 text-center text-slate-500">
                  <Spinner className="size-5 text-sky-600" />
                </td>
              </tr>
            )}
            {error && (
              <tr>
                <td
                  colSpan={columns.length + 1}
                  className="px-4 py-6 text-center text-rose-600 dark:text-rose-400"
                  role="alert"
                >
                  {error.message}
                </td>
              </tr>
            )}
            {rows?.length === 0 && !error && (
              <tr>
                <td colSpan={columns.length + 1} className="px-4 py-10 text-center text-slate-500 dark:text-slate-400">
                  {empty}
                </td>
              </tr>
            )}
            {rows?.map((row) => (
              <tr key={rowKey(row)} className="hover:bg-slate-50/70 dark:hover:bg-slate-800/40">
                {columns.map((c) => (
                  <td key={c.header} className={`px-4 py-3 align-middle ${c.className ?? ''}`}>
                    {c.cell(row)}
                  </td>
                ))}
                {actions.length > 0 && (
                  <td className="px-4 py-2 text-right">
                    <Menu
                      label="Actions"
                      button={<span className="text-lg leading-none">⋯</span>}
                      buttonClassName="rounded-md px-2 py-1 text-slate-500 hover:bg-slate-100 hover:text-slate-800 dark:hover:bg-slate-800 dark:hover:text-slate-100"
                    >
                      {(close) =>
                        actions
                          .filter((a) => !a.hidden?.(row))
                          .map((a) => (
                            <MenuItem
                              key={a.label}
                              danger={a.danger}
                              onSelect={() => {
                                close();
                                a.onSelect(row);
                              }}
                            >
                              {a.label}
                            </MenuItem>
                          ))
                      }
                    </Menu>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {paging && (paging.hasPrevious || paging.hasNext) && (
        <nav
          aria-label="Pagination"
          className="flex items-center justify-between border-t border-slate-200 px-4 py-2.5 text-sm dark:border-slate-800"
        >
          <span className="text-slate-500 dark:text-slate-400">Page {paging.page}</span>
          <div className="flex gap-2">
            <Button onClick={paging.onPrevious} disabled={!paging.hasPrevious}>
              Previous
            </Button>
            <Button onClick={paging.onNext} disabled={!paging.hasNext}>
              Next
            </Button>
          </div>
        </nav>
      )}
    </div>
  );
}

/** Filters as one types, a moment after the last key stroke. */
function FilterBar({
  value,
  onChange,
  placeholder,
}: {
  value: string;
  onChange: (v: string) => void;
  placeholder: string;
}) {
  const [text, setText] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => {
      if (text.trim() !== value) onChange(text.trim());
    }, 300);
    return () => clearTimeout(t);
  }, [text, value, onChange]);
  return (
    <div className="flex items-center gap-2 border-b border-slate-200 px-4 py-3 dark:border-slate-800">
      <div className="relative w-full max-w-xs">
        <span className="pointer-events-none absolute inset-y-0 left-2.5 flex items-center text-slate-400">
          <Icon name="search" className="size-4" />
        </span>
        <Input
          type="search"
          aria-label={placeholder}
          placeholder={placeholder}
          value={text}
          onChange={(e) => setText(e.target.value)}
          className="pl-8"
        />
      </div>
    </div>
  );
}
