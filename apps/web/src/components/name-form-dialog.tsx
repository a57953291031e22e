'use client';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { z } from 'zod';
import { useZodForm } from '@/lib/forms';
import { useTRPC } from '@/lib/trpc';
import { Modal } from './modal';
import { useToast } from './toast';
import { Button, Checkbox, Field, FormError, Input, Select, Textarea, capitalize } from './ui';

export const NameForm = z.object({
  name: z.string().trim().min(1, 'A name is required.').max(64, 'At most 64 characters.'),
  description: z.string().max(4096, 'At most 4096 characters.'),
  enabled: z.boolean(),
  domainId: z.string().min(1),
});
export type NameFormValues = z.output<typeof NameForm>;

/**
 * Create or edit a resource that has a name and a description, optionally an enabled
 * flag and a domain (chosen at creation only: Keystone does not move resources).
 */
export function NameFormDialog({
  open,
  noun,
  row,
  withEnabled,
  withDomain,
  onClose,
  save,
}: {
  open: boolean;
  noun: string;
  row: { id: string; name: string; description: string; enabled?: boolean; domainId?: string | null } | null;
  withEnabled?: boolean;
  withDomain?: boolean;
  onClose: () => void;
  save: (v: NameFormValues) => Promise<unknown>;
}) {
  const trpc = useTRPC();
  const toast = useToast();
  const form = useZodForm(NameForm, { name: '', description: '', enabled: true, domainId: 'default' });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const domains = useQuery({
    ...trpc.identity.domains.list.queryOptions({ limit: 200 }),
    enabled: open && Boolean(withDomain) && !row,
    retry: false,
  });
  const { reset } = form;
  useEffect(() => {
    if (!open) return;
    setError(null);
    reset({
      name: row?.name ?? '',
      description: row?.description ?? '',
      enabled: row?.enabled ?? true,
      domainId: row?.domainId ?? 'default',
    });
  }, [open, row, reset]);
  const submit = async () => {
    const v = form.validate();
    if (!v) return;
    setBusy(true);
    setError(null);
    try {
      await save(v);
      toast.success(row ? `${capitalize(noun)} saved` : `${capitalize(noun)} ${v.name} created`);
      onClose();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      form.serverError(e);
    } finally {
      setBusy(false);
    }
  };
  const id = (f: string) => `${noun.replace(/\s/g, '-')}-${f}`;
  return (
    <Modal
      open={open}
      title={row ? `Edit ${noun} ${row.name}` : `Create ${noun}`}
      onClose={onClose}
      onSubmit={() => void submit()}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>
            {row ? 'Save' : `Create ${noun}`}
          </Button>
        </>
      }
    >
      <FormError message={error} />
      <Field label="Name" htmlFor={id('name')} errors={form.err('name')}>
        <Input
          id={id('name')}
          autoFocus
          value={form.values.name}
          onChange={(e) => form.set('name', e.target.value)}
          aria-invalid={Boolean(form.err('name')?.length) || undefined}
        />
      </Field>
      <Field label="Description" htmlFor={id('description')} errors={form.err('description')}>
        <Textarea
          id={id('description')}
          value={form.values.description}
          onChange={(e) => form.set('description', e.target.value)}
        />
      </Field>
      {withDomain && !row && (
        <Field label="Domain" htmlFor={id('domain')} errors={form.err('domainId')}>
          <Select id={id('domain')} value={form.values.domainId} onChange={(e) => form.set('domainId', e.target.value)}>
            {(domains.data?.items ?? [{ id: 'default', name: 'Default' }]).map((d) => (
              <option key={d.id} value={d.id}>
                {d.name}
              </option>
            ))}
          </Select>
        </Field>
      )}
      {withEnabled && (
        <Checkbox
          id={id('enabled')}
          label="Enabled"
          checked={form.values.enabled}
          onChange={(e) => form.set('enabled', e.target.checked)}
        />
      )}
    </Modal>
  );
}
