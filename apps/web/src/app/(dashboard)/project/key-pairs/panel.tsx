'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { PrivateKeyOnce } from '@/components/compute/keypair-secret';
import { age, useNow } from '@/components/compute/status';
import { DataTable } from '@/components/data-table';
import { Icon } from '@/components/icons';
import { ConfirmDialog, Modal } from '@/components/modal';
import { useToast } from '@/components/toast';
import { Button, Field, FormError, Input, PageHeader, Textarea } from '@/components/ui';
import { useInvalidate } from '@/lib/resource';
import { QUIET, useTRPC } from '@/lib/trpc';

export function KeyPairsPanel() {
  const trpc = useTRPC();
  const toast = useToast();
  const invalidate = useInvalidate();
  const now = useNow();
  const query = useQuery(trpc.compute.keypairs.list.queryOptions());
  const remove = useMutation(trpc.compute.keypairs.delete.mutationOptions());
  const [dialog, setDialog] = useState<'create' | 'import' | null>(null);
  const [deleting, setDeleting] = useState<string | null>(null);
  return (
    <>
      <PageHeader
        title="Key Pairs"
        description="SSH public keys injected into new instances. Key pairs belong to you, not to the project."
        actions={
          <>
            <Button onClick={() => setDialog('import')}>
              <Icon name="key" className="size-4" /> Import public key
            </Button>
            <Button variant="primary" onClick={() => setDialog('create')}>
              <Icon name="plus" className="size-4" /> Create key pair
            </Button>
          </>
        }
      />
      <DataTable
        label="Key pairs"
        rows={query.data}
        rowKey={(k) => k.id}
        loading={query.isLoading}
        error={query.error}
        empty="No key pairs yet. Create one, or import the public key you already use."
        columns={[
          { header: 'Name', cell: (k) => <span className="font-medium">{k.name}</span> },
          { header: 'Fingerprint', cell: (k) => <code className="text-xs text-slate-500">{k.fingerprint}</code> },
          { header: 'Type', cell: (k) => k.type, className: 'hidden sm:table-cell' },
          {
            header: 'Created',
            cell: (k) => `${age(k.createdAt, now)} ago`,
            className: 'hidden md:table-cell text-slate-500',
          },
        ]}
        actions={[{ label: 'Delete', danger: true, onSelect: (k) => setDeleting(k.name) }]}
      />
      <KeyPairDialog mode={dialog} onClose={() => setDialog(null)} />
      <ConfirmDialog
        open={deleting !== null}
        title="Delete key pair"
        message={
          <>
            Delete key pair <strong>{deleting}</strong>? Instances that already have the key keep it.
          </>
        }
        busy={remove.isPending}
        onClose={() => setDeleting(null)}
        onConfirm={() =>
          deleting &&
          void remove.mutateAsync({ name: deleting }).then(
            async () => {
              toast.success(`Key pair ${deleting} deleted`);
              setDeleting(null);
              await invalidate(trpc.compute.keypairs.pathKey());
            },
            () => {},
          )
        }
      />
    </>
  );
}

function KeyPairDialog({ mode, onClose }: { mode: 'create' | 'import' | null; onClose: () => void }) {
  const trpc = useTRPC();
  const toast = useToast();
  const invalidate = useInvalidate();
  const create = useMutation(trpc.compute.keypairs.create.mutationOptions(QUIET));
  const [name, setName] = useState('');
  const [publicKey, setPublicKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [generated, setGenerated] = useState<{ name: string; privateKey: string } | null>(null);
  const close = () => {
    setName('');
    setPublicKey('');
    setError(null);
    setGenerated(null);
    onClose();
  };
  const submit = async () => {
    if (generated) return close();
    setError(null);
    try {
      const k = await create.mutateAsync({
        name: name.trim(),
        publicKey: mode === 'import' ? publicKey.trim() : undefined,
      });
      await invalidate(trpc.compute.keypairs.pathKey());
      if (k.privateKey) setGenerated({ name: k.name, privateKey: k.privateKey });
      else {
        toast.success(`Key pair ${k.name} imported`);
        close();
      }
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <Modal
      open={mode !== null}
      title={mode === 'import' ? 'Import public key' : 'Create key pair'}
      onClose={close}
      onSubmit={() => void submit()}
      footer={
        generated ? (
          <Button type="submit" variant="primary">
            Done
          </Button>
        ) : (
          <>
            <Button onClick={close}>Cancel</Button>
            <Button type="submit" variant="primary" busy={create.isPending}>
              {mode === 'import' ? 'Import' : 'Create key pair'}
            </Button>
          </>
        )
      }
    >
      {generated ? (
        <PrivateKeyOnce name={generated.name} privateKey={generated.privateKey} />
      ) : (
        <>
          <FormError message={error} />
          <Field label="Key pair name" htmlFor="keypair-name">
            <Input id="keypair-name" autoFocus value={name} onChange={(e) => setName(e.target.value)} />
          </Field>
          {mode === 'import' && (
            <Field
              label="Public key"
              htmlFor="keypair-public"
              hint="An OpenSSH public key line, e.g. the contents of ~/.ssh/id_ed25519.pub."
            >
              <Textarea
                id="keypair-public"
                rows={4}
                className="font-mono text-xs"
                value={publicKey}
                onChange={(e) => setPublicKey(e.target.value)}
              />
            </Field>
          )}
        </>
      )}
    </Modal>
  );
}
