'use client';
import { useMutation } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { FormDialog } from '@/components/modal';
import { useToast } from '@/components/toast';
import { Checkbox, Field, Input, Textarea } from '@/components/ui';
import { useInvalidate } from '@/lib/resource';
import { QUIET, useTRPC } from '@/lib/trpc';
import type { NetworkBase } from './common';
import { emptySubnet, SubnetFields, type SubnetValues, subnetInput, subnetProblem } from './subnet-form';

/**
 * Create a network, optionally with its first subnet (one request: if the subnet is
 * refused the network is not left behind), or edit a network's name and state.
 */
export function NetworkDialog({
  open,
  network,
  canShare,
  onClose,
  onCreated,
}: {
  open: boolean;
  network: NetworkBase | null;
  canShare: boolean;
  onClose: () => void;
  onCreated?: (id: string) => void;
}) {
  const trpc = useTRPC();
  const toast = useToast();
  const invalidate = useInvalidate();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [adminUp, setAdminUp] = useState(true);
  const [shared, setShared] = useState(false);
  const [withSubnet, setWithSubnet] = useState(true);
  const [subnet, setSubnet] = useState<SubnetValues>(emptySubnet);
  const [error, setError] = useState<string | null>(null);
  const create = useMutation(trpc.network.networks.create.mutationOptions(QUIET));
  const update = useMutation(trpc.network.networks.update.mutationOptions(QUIET));
  useEffect(() => {
    if (!open) return;
    setError(null);
    setName(network?.name ?? '');
    setDescription(network?.description ?? '');
    setAdminUp(network?.adminStateUp ?? true);
    setShared(network?.shared ?? false);
    setWithSubnet(true);
    setSubnet(emptySubnet());
  }, [open, network]);
  const submit = async () => {
    if (!network && withSubnet) {
      const problem = subnetProblem(subnet);
      if (problem) return setError(problem);
    }
    setError(null);
    try {
      if (network) {
        await update.mutateAsync({
          id: network.id,
          patch: {
            name: name.trim(),
            description,
            admin_state_up: adminUp,
            ...(canShare ? { shared } : {}),
          },
        });
        toast.success(`Network ${name.trim() || network.id.slice(0, 8)} saved`);
      } else {
        const r = await create.mutateAsync({
          network: { name: name.trim(), description, admin_state_up: adminUp, ...(canShare ? { shared } : {}) },
          subnet: withSubnet ? subnetInput(subnet) : null,
        });
        toast.success(
          `Network ${r.network.name || r.network.id.slice(0, 8)} created`,
          r.subnet ? `with subnet ${r.subnet.cidr}` : undefined,
        );
        onCreated?.(r.network.id);
      }
      await invalidate(trpc.network.pathKey());
      onClose();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <FormDialog
      open={open}
      size="lg"
      title={network ? `Edit network ${network.name || network.id.slice(0, 8)}` : 'Create network'}
      description={network ? undefined : 'A private network for your instances, isolated from other projects.'}
      onClose={onClose}
      onSubmit={() => void submit()}
      submitLabel={network ? 'Save' : 'Create network'}
      busy={create.isPending || update.isPending}
      error={error}
    >
      <Field label="Network name" htmlFor="network-name">
        <Input id="network-name" autoFocus value={name} onChange={(e) => setName(e.target.value)} />
      </Field>
      <Field label="Description" htmlFor="network-description">
        <Textarea
          id="network-description"
          rows={2}
          value={description}
          onChange={(e) => setDescription(e.target.value)}
        />
      </Field>
      <div className="flex flex-wrap gap-6">
        <Checkbox
          id="network-admin-up"
          label="Enabled (admin state up)"
          checked={adminUp}
          onChange={(e) => setAdminUp(e.target.checked)}
        />
        {canShare && (
          <Checkbox
            id="network-shared"
            label="Shared with all projects"
            checked={shared}
            onChange={(e) => setShared(e.target.checked)}
          />
        )}
      </div>
      {!network && (
        <fieldset className="space-y-4 rounded-xl border border-slate-200 p-4 dark:border-slate-800">
          <legend className="px-1">
            <Checkbox
              id="network-with-subnet"
              label="Create a first subnet"
              checked={withSubnet}
              onChange={(e) => setWithSubnet(e.target.checked)}
            />
          </legend>
          {withSubnet && <SubnetFields values={subnet} onChange={setSubnet} prefix="first-subnet" />}
        </fieldset>
      )}
    </FormDialog>
  );
}
