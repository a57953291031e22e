'use client';
import type { UseQueryResult } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import type { useListState } from '@/lib/resource';
import { type Column, DataTable, markerPaging, type RowAction } from './data-table';
import { Icon } from './icons';
import { ConfirmAction } from './modal';
import { useToast } from './toast';
import { Button, PageHeader, capitalize } from './ui';

interface Named {
  id: string;
  name: string;
  enabled?: boolean;
}

/**
 * An identity list panel: filter, paged table, create/edit through `editor`, enable/
 * disable, delete with confirmation. Pages supply the queries and mutations.
 */
export function ResourcePanel<T extends Named>({
  title,
  description,
  noun,
  query,
  list,
  columns,
  allowed,
  editor,
  onToggle,
  onDelete,
  deleteWarning,
  extraActions = [],
}: {
  title: string;
  description: string;
  noun: string;
  query: UseQueryResult<{ items: T[]; next: string | null }, { message: string }>;
  list: ReturnType<typeof useListState>;
  columns: Column<T>[];
  allowed: { create: boolean; update: boolean; delete: boolean };
  editor: (p: { open: boolean; row: T | null; onClose: () => void }) => ReactNode;
  onToggle?: (row: T) => Promise<unknown>;
  onDelete: (row: T) => Promise<unknown>;
  deleteWarning?: string;
  extraActions?: RowAction<T>[];
}) {
  const toast = useToast();
  const [editing, setEditing] = useState<{ row: T | null } | null>(null);
  const [deleting, setDeleting] = useState<T | null>(null);
  const toggle = (row: T) =>
    onToggle?.(row).then(
      () => toast.success(`${capitalize(noun)} ${row.name} ${row.enabled ? 'disabled' : 'enabled'}`),
      () => {},
    );
  const { data } = query;
  return (
    <>
      <PageHeader
        title={title}
        description={description}
        actions={
          allowed.create && (
            <Button variant="primary" onClick={() => setEditing({ row: null })}>
              <Icon name="plus" className="size-4" /> Create {noun}
            </Button>
          )
        }
      />
      <DataTable
        label={title}
        rows={data?.items}
        rowKey={(r) => r.id}
        loading={query.isLoading}
        error={query.error}
        filter={{ ...list.filter, placeholder: 'Filter by name' }}
        paging={markerPaging(list.paging, data?.next)}
        empty={list.input.name ? `No ${noun} name contains “${list.input.name}”.` : `No ${noun}s yet.`}
        columns={columns}
        actions={[
          { label: 'Edit', onSelect: (row) => setEditing({ row }), hidden: () => !allowed.update },
          ...extraActions,
          ...(onToggle
            ? [
                { label: 'Disable', onSelect: toggle, hidden: (r: T) => r.enabled === false || !allowed.update },
                { label: 'Enable', onSelect: toggle, hidden: (r: T) => r.enabled !== false || !allowed.update },
              ]
            : []),
          { label: 'Delete', onSelect: setDeleting, danger: true, hidden: () => !allowed.delete },
        ]}
      />
      {editor({ open: editing !== null, row: editing?.row ?? null, onClose: () => setEditing(null) })}
      <ConfirmAction
        target={deleting}
        title={`Delete ${noun}`}
        message={(row) => (
          <>
            Delete {noun} <strong>{row.name}</strong>? {deleteWarning ?? ''} This cannot be undone.
          </>
        )}
        action={onDelete}
        done={(row) => `${capitalize(noun)} ${row.name} deleted`}
        onClose={() => setDeleting(null)}
      />
    </>
  );
}
