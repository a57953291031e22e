'use client';
import { useMutation } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { FormDialog } from '@/components/modal';
import { useToast } from '@/components/toast';
import { Checkbox, Field, Input, Select, Textarea } from '@/components/ui';
import { QUIET, useTRPC } from '@/lib/trpc';
import { useInvalidate } from '@/lib/resource';
import { formatPools, formatRoutes, lines, parsePools, parseRoutes, type SubnetRow } from './common';

/** The subnet form's state: text as typed; core validates the addressing and answers in words. */
export interface SubnetValues {
  name: string;
  cidr: string;
  ipVersion: '4' | '6';
  gatewayMode: 'auto' | 'custom' | 'none';
  gatewayIp: string;
  enableDhcp: boolean;
  pools: string;
  dns: string;
  routes: string;
}

export const emptySubnet = (): SubnetValues => ({
  name: '',
  cidr: '',
  ipVersion: '4',
  gatewayMode: 'auto',
  gatewayIp: '',
  enableDhcp: true,
  pools: '',
  dns: '',
  routes: '',
});

export const subnetValuesOf = (s: SubnetRow): SubnetValues => ({
  name: s.name,
  cidr: s.cidr,
  ipVersion: s.ipVersion === 6 ? '6' : '4',
  gatewayMode: s.gatewayIp ? 'custom' : 'none',
  gatewayIp: s.gatewayIp ?? '',
  enableDhcp: s.enableDhcp,
  pools: formatPools(s.allocationPools),
  dns: s.dnsNameservers.join('\n'),
  routes: formatRoutes(s.hostRoutes),
});

/** The form's own checks, before asking the server; null when fine. */
export function subnetProblem(v: SubnetValues): string | null {
  if (!v.cidr.trim()) return 'A network address (CIDR) is required, e.g. 10.0.0.0/24.';
  if (v.gatewayMode === 'custom' && !v.gatewayIp.trim()) return 'Enter the gateway address or choose another option.';
  return null;
}

/** Neutron's subnet body (without network_id) from the form. */
export function subnetInput(v: SubnetValues) {
  const pools = parsePools(v.pools);
  return {
    name: v.name.trim(),
    cidr: v.cidr.trim(),
    ip_version: v.ipVersion === '6' ? (6 as const) : (4 as const),
    ...(v.gatewayMode === 'none'
      ? { gateway_ip: null }
      : v.gatewayMode === 'custom'
        ? { gateway_ip: v.gatewayIp.trim() }
        : {}),
    ...(pools.length ? { allocation_pools: pools } : {}),
    dns_nameservers: lines(v.dns),
    host_routes: parseRoutes(v.routes),
    enable_dhcp: v.enableDhcp,
  };
}

/** The changes an edit may make (CIDR and IP version are fixed once created). */
export function subnetPatch(v: SubnetValues) {
  return {
    name: v.name.trim(),
    gateway_ip: v.gatewayMode === 'none' ? null : v.gatewayMode === 'custom' ? v.gatewayIp.trim() : undefined,
    allocation_pools: parsePools(v.pools),
    dns_nameservers: lines(v.dns),
    host_routes: parseRoutes(v.routes),
    enable_dhcp: v.enableDhcp,
  };
}

/** The subnet fields, shared by "create network" (first subnet) and the subnet dialog. */
export function SubnetFields({
  values: v,
  onChange,
  prefix,
  editing = false,
}: {
  values: SubnetValues;
  onChange: (v: SubnetValues) => void;
  prefix: string;
  editing?: boolean;
}) {
  const set = <K extends keyof SubnetValues>(k: K, value: SubnetValues[K]) => onChange({ ...v, [k]: value });
  const id = (f: string) => `${prefix}-${f}`;
  const six = v.ipVersion === '6';
  return (
    <div className="space-y-4">
      <Field label="Subnet name" htmlFor={id('name')}>
        <Input id={id('name')} value={v.name} onChange={(e) => set('name', e.target.value)} />
      </Field>
      <div className="grid gap-4 sm:grid-cols-3">
        <div className="sm:col-span-2">
          <Field
            label="Network address (CIDR)"
            htmlFor={id('cidr')}
            hint={editing ? 'Fixed once the subnet exists.' : six ? 'e.g. fd00:10::/64' : 'e.g. 10.0.0.0/24'}
          >
            <Input
              id={id('cidr')}
              value={v.cidr}
              disabled={editing}
              placeholder={six ? 'fd00:10::/64' : '10.0.0.0/24'}
              onChange={(e) => set('cidr', e.target.value)}
            />
          </Field>
        </div>
        <Field label="IP version" htmlFor={id('version')}>
          <Select
            id={id('version')}
            value={v.ipVersion}
            disabled={editing}
            onChange={(e) => set('ipVersion', e.target.value === '6' ? '6' : '4')}
          >
            <option value="4">IPv4</option>
            <option value="6">IPv6</option>
          </Select>
        </Field>
      </div>
      <div className="grid gap-4 sm:grid-cols-3">
        <Field label="Gateway" htmlFor={id('gateway-mode')}>
          <Select
            id={id('gateway-mode')}
            value={v.gatewayMode}
            onChange={(e) => {
              const m = e.target.value;
              set('gatewayMode', m === 'custom' ? 'custom' : m === 'none' ? 'none' : 'auto');
            }}
          >
            {!editing && <option value="auto">First address</option>}
            <option value="custom">Choose address</option>
            <option value="none">No gateway</option>
          </Select>
        </Field>
        {v.gatewayMode === 'custom' && (
          <div className="sm:col-span-2">
            <Field label="Gateway IP" htmlFor={id('gateway')}>
              <Input
                id={id('gateway')}
                value={v.gatewayIp}
                placeholder={six ? 'fd00:10::1' : '10.0.0.1'}
                onChange={(e) => set('gatewayIp', e.target.value)}
              />
            </Field>
          </div>
        )}
      </div>
      <Checkbox
        id={id('dhcp')}
        label="Enable DHCP"
        checked={v.enableDhcp}
        onChange={(e) => set('enableDhcp', e.target.checked)}
      />
      <Field
        label="Allocation pools"
        htmlFor={id('pools')}
        hint="One range per line: start,end. Empty: the whole subnet except the gateway."
      >
        <Textarea
          id={id('pools')}
          value={v.pools}
          placeholder={six ? 'fd00:10::10,fd00:10::ff' : '10.0.0.10,10.0.0.200'}
          onChange={(e) => set('pools', e.target.value)}
        />
      </Field>
      <div className="grid gap-4 sm:grid-cols-2">
        <Field label="DNS servers" htmlFor={id('dns')} hint="One address per line.">
          <Textarea id={id('dns')} value={v.dns} onChange={(e) => set('dns', e.target.value)} />
        </Field>
        <Field label="Host routes" htmlFor={id('routes')} hint="One per line: destination CIDR,next hop.">
          <Textarea
            id={id('routes')}
            value={v.routes}
            placeholder="192.168.0.0/24,10.0.0.5"
            onChange={(e) => set('routes', e.target.value)}
          />
        </Field>
      </div>
    </div>
  );
}

/** Create a subnet on a network, or edit one. */
export function SubnetDialog({
  open,
  networkId,
  subnet,
  onClose,
}: {
  open: boolean;
  networkId: string;
  subnet: SubnetRow | null;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const toast = useToast();
  const invalidate = useInvalidate();
  const [values, setValues] = useState<SubnetValues>(emptySubnet);
  const [error, setError] = useState<string | null>(null);
  const create = useMutation(trpc.network.subnets.create.mutationOptions(QUIET));
  const update = useMutation(trpc.network.subnets.update.mutationOptions(QUIET));
  useEffect(() => {
    if (!open) return;
    setError(null);
    setValues(subnet ? subnetValuesOf(subnet) : emptySubnet());
  }, [open, subnet]);
  const submit = async () => {
    const problem = subnetProblem(values);
    if (problem) return setError(problem);
    setError(null);
    try {
      if (subnet) {
        await update.mutateAsync({ id: subnet.id, patch: subnetPatch(values) });
        toast.success(`Subnet ${values.name || subnet.cidr} saved`);
      } else {
        const s = await create.mutateAsync({ ...subnetInput(values), network_id: networkId });
        toast.success(`Subnet ${s.name || s.cidr} created`);
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
      title={subnet ? `Edit subnet ${subnet.name || subnet.cidr}` : 'Create subnet'}
      onClose={onClose}
      onSubmit={() => void submit()}
      submitLabel={subnet ? 'Save' : 'Create subnet'}
      busy={create.isPending || update.isPending}
      error={error}
    >
      <SubnetFields values={values} onChange={setValues} prefix="subnet" editing={Boolean(subnet)} />
    </FormDialog>
  );
}
