'use client';
import { useMutation } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { FormDialog } from '@/components/modal';
import { useToast } from '@/components/toast';
import { Checkbox, Field, Input, Select, Textarea } from '@/components/ui';
import { QUIET, useTRPC } from '@/lib/trpc';
import { useInvalidate } from '@/lib/resource';
import type { SubnetRow } from './common';
import { asIpv6FormMode, IPV6_MODE_OPTIONS, isAutoAddressMode } from './ipv6-modes';
import {
  emptySubnet,
  modeOf,
  poolsApply,
  type SubnetValues,
  subnetInput,
  subnetPatch,
  subnetProblem,
  subnetValuesOf,
} from './subnet-values';

export { emptySubnet, type SubnetValues, subnetInput, subnetProblem } from './subnet-values';

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
  const mode = modeOf(v);
  const modeHint = editing
    ? 'Fixed once the subnet exists.'
    : v.ipv6Mode === 'none'
      ? 'No router advertisements: guests need their address set by hand or by another system.'
      : isAutoAddressMode(v.ipv6Mode)
        ? 'Each port gets the EUI-64 address of its MAC; the CIDR must be a /64.'
        : 'Ports get addresses from the allocation pools, handed out by DHCPv6.';
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
      {six && (
        <Field label="IPv6 address mode" htmlFor={id('ipv6-mode')} hint={modeHint}>
          <Select
            id={id('ipv6-mode')}
            value={v.ipv6Mode}
            disabled={editing}
            onChange={(e) => set('ipv6Mode', asIpv6FormMode(e.target.value))}
          >
            {IPV6_MODE_OPTIONS.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </Select>
        </Field>
      )}
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
      {mode ? (
        // Neutron requires DHCP under an IPv6 mode (it runs the RA / DHCPv6 service), so no switch here.
        <p className="text-sm text-slate-600 dark:text-slate-300" data-testid="subnet-dhcp-required">
          DHCP is enabled: the IPv6 address mode needs it.
        </p>
      ) : (
        <Checkbox
          id={id('dhcp')}
          label="Enable DHCP"
          checked={v.enableDhcp}
          onChange={(e) => set('enableDhcp', e.target.checked)}
        />
      )}
      {poolsApply(v) && (
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
      )}
      <div className="grid gap-4 sm:grid-cols-2">
        <Field label="DNS servers" htmlFor={id('dns')} hint="One address per line.">
          <Textarea
            id={id('dns')}
            value={v.dns}
            placeholder={six ? 'fd00:10::53' : undefined}
            onChange={(e) => set('dns', e.target.value)}
          />
        </Field>
        <Field label="Host routes" htmlFor={id('routes')} hint="One per line: destination CIDR,next hop.">
          <Textarea
            id={id('routes')}
            value={v.routes}
            placeholder={six ? 'fd00:20::/64,fd00:10::5' : '192.168.0.0/24,10.0.0.5'}
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
