'use client';
import { type ReactNode, useCallback, useEffect, useState } from 'react';
import type { useMarkerPaging } from '@/lib/paging';
import { useListState } from '@/lib/resource';
import { Icon } from './icons';
import { Menu, MenuItem } from './menu';
import { Button, Input, Select, Spinner } from './ui';

export interface Column<T> {
  header: string;
  cell: (row: T) => ReactNode;
  className?: string;
}
export interface RowAction<T> {
  label: string;
  onSelect?: (row: T) => void;
  /** A link instead of a button (e.g. the row's detail page). */
  href?: (row: T) => string;
  danger?: boolean;
  hidden?: (row: T) => boolean;
}
interface Paging {
  page: number;
  hasPrevious: boolean;
  hasNext: boolean;
  onPrevious: () => void;
  onNext: () => void;
}
/** Row selection: a checkbox per row and "Select all" in the header. */
interface Selection<T> {
  selected: ReadonlySet<string>;
  onChange: (next: Set<string>) => void;
  label: (row: T) => string;
}

/** DataTable's pager for marker paging (lib/paging.ts) and the list's `next` marker. */
export const markerPaging = (p: ReturnType<typeof useMarkerPaging>, next: string | null | undefined): Paging => ({
  page: p.page,
  hasPrevious: p.hasPrevious,
  hasNext: Boolean(next),
  onPrevious: p.previous,
  onNext: () => {
    if (next) p.next(next);
  },
});

/**
 * A list panel's state: the name filter and marker paging (lib/resource.ts useListState)
 * plus select filters (`defaults` gives their keys and "any" values). Changing a filter
 * goes back to page one; `filtered` says whether any filter is set, for the empty text.
 */
export function useListFilters<F extends Record<string, string>>(defaults: F) {
  const list = useListState();
  const [values, setValues] = useState<F>(defaults);
  const { reset } = list.paging;
  const set = useCallback(
    <K extends keyof F>(key: K, value: F[K]) => {
      setValues((v) => ({ ...v, [key]: value }));
      reset();
    },
    [reset],
  );
  const filtered = Boolean(list.input.name) || Object.keys(defaults).some((k) => values[k] !== defaults[k]);
  return {
    ...list,
    values,
    set,
    filtered,
    pager: (next: string | null | undefined) => markerPaging(list.paging, next),
  };
}

/** A select filter for a DataTable toolbar: "any" first, then the options. */
export function FilterSelect({
  label,
  value,
  onChange,
  any,
  options,
  className = 'max-w-44',
}: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  /** The text of the empty choice; without it there is none. */
  any?: string;
  options: ReadonlyArray<string | { value: string; label: string }>;
  className?: string;
}) {
  return (
    <Select aria-label={label} className={className} value={value} onChange={(e) => onChange(e.target.value)}>
      {any !== undefined && <option value="">{any}</option>}
      {options.map((o) => {
        const { value: v, label: l } = typeof o === 'string' ? { value: o, label: o } : o;
        return (
          <option key={v} value={v}>
            {l}
          </option>
        );
      })}
    </Select>
  );
}

/** A small spinner while a list refetches behind rows already shown (live updates, paging). */
export function Refreshing({ query }: { query: { isFetching: boolean; isLoading: boolean } }) {
  return (
    <span className="inline-flex size-4 items-center" aria-hidden="true">
      {query.isFetching && !query.isLoading && <Spinner className="size-3.5 text-slate-400" />}
    </span>
  );
}

/**
 * A resource list: filter bar (name filter and any `toolbar` controls), table, row
 * actions, optional row selection, and marker paging. The caller owns the query; this
 * only draws it.
 */
export function DataTable<T>({
  label,
  columns,
  rows,
  rowKey,
  loading,
  error,
  actions = [],
  actionsLabel = () => 'Actions',
  empty = 'Nothing here yet.',
  filter,
  toolbar,
  paging,
  selection,
  rowProps,
  align = 'middle',
}: {
  label: string;
  columns: Column<T>[];
  rows: T[] | undefined;
  rowKey: (row: T) => string;
  loading: boolean;
  error?: { message: string } | null;
  actions?: RowAction<T>[];
  /** The accessible name of a row's actions menu. */
  actionsLabel?: (row: T) => string;
  empty?: ReactNode;
  /** `label` names the input when the placeholder says more (default: the placeholder). */
  filter?: { value: string; onChange: (v: string) => void; placeholder: string; label?: string };
  /** More controls in the filter bar: select filters, a refresh spinner, bulk actions. */
  toolbar?: ReactNode;
  paging?: Paging;
  selection?: Selection<T>;
  /** Attributes of a row's <tr> (test ids, data attributes). */
  rowProps?: (row: T) => { [k: `data-${string}`]: string | undefined };
  align?: 'top' | 'middle';
}) {
  const span = columns.length + (actions.length > 0 ? 1 : 0) + (selection ? 1 : 0);
  const allSelected = Boolean(selection && rows?.length && rows.every((r) => selection.selected.has(rowKey(r))));
  const toggle = (key: string) => {
    if (!selection) return;
    const next = new Set(selection.selected);
    if (next.has(key)) next.delete(key);
    else next.add(key);
    selection.onChange(next);
  };
  return (
    <div className="overflow-hidden rounded-xl border border-slate-200 bg-white shadow-xs dark:border-slate-800 dark:bg-slate-900">
      {(filter || toolbar) && (
        <div className="flex flex-wrap items-center gap-2 border-b border-slate-200 px-4 py-3 dark:border-slate-800">
          {filter && <FilterInput {...filter} />}
          {toolbar}
        </div>
      )}
      <div className="overflow-x-auto">
        <table className="min-w-full divide-y divide-slate-200 text-sm dark:divide-slate-800" aria-label={label}>
          <thead className="bg-slate-50 dark:bg-slate-900/80">
            <tr>
              {selection && (
                <th scope="col" className="w-10 py-2.5 pl-4">
                  <input
                    type="checkbox"
                    aria-label="Select all"
                    checked={allSelected}
                    onChange={() => selection.onChange(allSelected ? new Set() : new Set(rows?.map(rowKey)))}
                    className="size-4 rounded border-slate-300 text-sky-600"
                  />
                </th>
              )}
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
                <td colSpan={span} className="px-4 py-10 text-center text-slate-500">
                  <Spinner className="size-5 text-sky-600" />
                </td>
              </tr>
            )}
            {error && (
              <tr>
                <td colSpan={span} className="px-4 py-6 text-center text-rose-600 dark:text-rose-400" role="alert">
                  {error.message}
                </td>
              </tr>
            )}
            {rows?.length === 0 && !error && (
              <tr>
                <td colSpan={span} className="px-4 py-10 text-center text-slate-500 dark:text-slate-400">
                  {empty}
                </td>
              </tr>
            )}
            {rows?.map((row) => {
              const key = rowKey(row);
              const selected = selection?.selected.has(key) ?? false;
              return (
                <tr
                  key={key}
                  {...rowProps?.(row)}
                  className={
                    selected ? 'bg-sky-50/60 dark:bg-sky-500/5' : 'hover:bg-slate-50/70 dark:hover:bg-slate-800/40'
                  }
                >
                  {selection && (
                    <td className={`py-3 pl-4 ${align === 'top' ? 'align-top' : 'align-middle'}`}>
                      <input
                        type="checkbox"
                        aria-label={`Select ${selection.label(row)}`}
                        checked={selected}
                        onChange={() => toggle(key)}
                        className="size-4 rounded border-slate-300 text-sky-600"
                      />
                    </td>
                  )}
                  {columns.map((c) => (
                    <td
                      key={c.header}
                      className={`px-4 py-3 ${align === 'top' ? 'align-top' : 'align-middle'} ${c.className ?? ''}`}
                    >
                      {c.cell(row)}
                    </td>
                  ))}
                  {actions.length > 0 && (
                    <td className={`px-4 py-2 text-right ${align === 'top' ? 'align-top' : 'align-middle'}`}>
                      <Menu
                        label={actionsLabel(row)}
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
                                href={a.href?.(row)}
                                onSelect={
                                  a.onSelect &&
                                  (() => {
                                    close();
                                    a.onSelect?.(row);
                                  })
                                }
                              >
                                {a.label}
                              </MenuItem>
                            ))
                        }
                      </Menu>
                    </td>
                  )}
                </tr>
              );
            })}
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
function FilterInput({
  value,
  onChange,
  placeholder,
  label = placeholder,
}: {
  value: string;
  onChange: (v: string) => void;
  placeholder: string;
  label?: string;
}) {
  const [text, setText] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => {
      if (text.trim() !== value) onChange(text.trim());
    }, 300);
    return () => clearTimeout(t);
  }, [text, value, onChange]);
  return (
    <div className="relative w-full max-w-xs">
      <span className="pointer-events-none absolute inset-y-0 left-2.5 flex items-center text-slate-400">
        <Icon name="search" className="size-4" />
      </span>
      <Input
        type="search"
        aria-label={label}
        placeholder={placeholder}
        value={text}
        onChange={(e) => setText(e.target.value)}
        className="pl-8"
      />
    </div>
  );
}
