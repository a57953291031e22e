'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { FormDialog } from '@/components/modal';
import { useToast } from '@/components/toast';
import { Checkbox, Field, Input, Select } from '@/components/ui';
import { useInvalidate } from '@/lib/resource';
import { QUIET, useTRPC } from '@/lib/trpc';
import { label, type RouterRow } from './common';

/** External networks as options; the first (usually `public`) is preselected. */
function useExternalNetworks(open: boolean) {
  const trpc = useTRPC();
  return useQuery({ ...trpc.network.networks.external.queryOptions(), enabled: open });
}

/** Create a router, optionally with its external gateway. */
export function CreateRouterDialog({
  open,
  onClose,
  onCreated,
}: {
  open: boolean;
  onClose: () => void;
  onCreated?: (id: string) => void;
}) {
  const trpc = useTRPC();
  const toast = useToast();
  const invalidate = useInvalidate();
  const externals = useExternalNetworks(open);
  const [name, setName] = useState('');
  const [gateway, setGateway] = useState('');
  const [adminUp, setAdminUp] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const create = useMutation(trpc.network.routers.create.mutationOptions(QUIET));
  const first = externals.data?.[0]?.id ?? '';
  useEffect(() => {
    if (!open) return;
    setName('');
    setAdminUp(true);
    setError(null);
  }, [open]);
  useEffect(() => {
    if (open) setGateway(first);
  }, [open, first]);
  const submit = async () => {
    setError(null);
    try {
      const r = await create.mutateAsync({
        name: name.trim(),
        admin_state_up: adminUp,
        ...(gateway ? { external_gateway_info: { network_id: gateway } } : {}),
      });
      toast.success(`Router ${label(r)} created`);
      await invalidate(trpc.network.pathKey());
      onCreated?.(r.id);
      onClose();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <FormDialog
      open={open}
      title="Create router"
      description="A router connects your subnets to each other and, through its gateway, to the external network."
      onClose={onClose}
      onSubmit={() => void submit()}
      submitLabel="Create router"
      busy={create.isPending}
      error={error}
    >
      <Field label="Router name" htmlFor="router-name">
        <Input id="router-name" autoFocus value={name} onChange={(e) => setName(e.target.value)} />
      </Field>
      <Field label="External network" htmlFor="router-gateway" hint="Gives the router SNAT and floating IPs.">
        <Select id="router-gateway" value={gateway} onChange={(e) => setGateway(e.target.value)}>
          <option value="">No gateway</option>
          {externals.data?.map((n) => (
            <option key={n.id} value={n.id}>
              {label(n)}
            </option>
          ))}
        </Select>
      </Field>
      <Checkbox
        id="router-admin-up"
        label="Enabled (admin state up)"
        checked={adminUp}
        onChange={(e) => setAdminUp(e.target.checked)}
      />
    </FormDialog>
  );
}

/** Set (or change) a router's external gateway. */
export function GatewayDialog({ router, onClose }: { router: RouterRow | null; onClose: () => void }) {
  const trpc = useTRPC();
  const toast = useToast();
  const invalidate = useInvalidate();
  const open = router !== null;
  const externals = useExternalNetworks(open);
  const [network, setNetwork] = useState('');
  const [error, setError] = useState<string | null>(null);
  const update = useMutation(trpc.network.routers.update.mutationOptions(QUIET));
  const first = router?.gateway?.networkId ?? externals.data?.[0]?.id ?? '';
  useEffect(() => {
    if (!open) return;
    setError(null);
    setNetwork(first);
  }, [open, first]);
  const submit = async () => {
    if (!router) return;
    if (!network) return setError('Choose an external network.');
    setError(null);
    try {
      await update.mutateAsync({ id: router.id, patch: { external_gateway_info: { network_id: network } } });
      toast.success(`Gateway of router ${label(router)} set`);
      await invalidate(trpc.network.pathKey());
      onClose();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <FormDialog
      open={open}
      title={`Set gateway of ${router ? label(router) : ''}`}
      onClose={onClose}
      onSubmit={() => void submit()}
      submitLabel="Set gateway"
      busy={update.isPending}
      error={error}
    >
      <Field label="External network" htmlFor="gateway-network">
        <Select id="gateway-network" autoFocus value={network} onChange={(e) => setNetwork(e.target.value)}>
          {externals.data?.map((n) => (
            <option key={n.id} value={n.id}>
              {label(n)}
            </option>
          ))}
        </Select>
      </Field>
    </FormDialog>
  );
}

/** Attach a router to one of the project's (or a shared network's) subnets; it takes the subnet's gateway IP. */
export function AddInterfaceDialog({
  open,
  routerId,
  attached,
  onClose,
}: {
  open: boolean;
  routerId: string;
  attached: string[];
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const toast = useToast();
  const invalidate = useInvalidate();
  const candidates = useQuery({ ...trpc.network.subnets.attachable.queryOptions(), enabled: open });
  const [subnet, setSubnet] = useState('');
  const [error, setError] = useState<string | null>(null);
  const add = useMutation(trpc.network.routers.addInterface.mutationOptions(QUIET));
  const options = (candidates.data?.subnets ?? []).filter((s) => !attached.includes(s.id));
  const netName = (id: string) => {
    const n = candidates.data?.networks.find((x) => x.id === id);
    return n ? label(n) : id.slice(0, 8);
  };
  const first = options[0]?.id ?? '';
  useEffect(() => {
    if (!open) return;
    setError(null);
    setSubnet(first);
  }, [open, first]);
  const submit = async () => {
    if (!subnet) return setError('Choose a subnet.');
    setError(null);
    try {
      await add.mutateAsync({ id: routerId, subnetId: subnet });
      toast.success('Interface added');
      await invalidate(trpc.network.pathKey());
      onClose();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <FormDialog
      open={open}
      title="Add interface"
      description="The router takes the subnet's gateway address."
      onClose={onClose}
      onSubmit={() => void submit()}
      submitLabel="Add interface"
      busy={add.isPending}
      submitDisabled={!options.length}
      error={error}
    >
      <Field
        label="Subnet"
        htmlFor="interface-subnet"
        hint={candidates.data && !options.length ? 'No subnet left to attach: create a network first.' : undefined}
      >
        <Select id="interface-subnet" autoFocus value={subnet} onChange={(e) => setSubnet(e.target.value)}>
          {options.map((s) => (
            <option key={s.id} value={s.id}>
              {netName(s.networkId)}: {s.cidr}
              {s.name ? ` (${s.name})` : ''}
              {s.gatewayIp ? '' : ' — no gateway'}
            </option>
          ))}
        </Select>
      </Field>
    </FormDialog>
  );
}
