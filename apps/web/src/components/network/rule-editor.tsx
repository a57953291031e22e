'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { FormDialog } from '@/components/modal';
import { useToast } from '@/components/toast';
import { Field, Input, Select } from '@/components/ui';
import { useInvalidate } from '@/lib/resource';
import { QUIET, useTRPC } from '@/lib/trpc';
import type { RuleRow } from './common';

type Proto = 'tcp' | 'udp' | 'icmp' | 'any' | 'number';
interface Spec {
  protocol: Proto;
  min?: number;
  max?: number;
}
/** The editor's presets (Horizon's list): each becomes one or more rules. */
export const PRESETS: { id: string; label: string; specs: Spec[] }[] = [
  { id: 'ssh', label: 'SSH (TCP 22)', specs: [{ protocol: 'tcp', min: 22, max: 22 }] },
  { id: 'http', label: 'HTTP (TCP 80)', specs: [{ protocol: 'tcp', min: 80, max: 80 }] },
  { id: 'https', label: 'HTTPS (TCP 443)', specs: [{ protocol: 'tcp', min: 443, max: 443 }] },
  { id: 'icmp', label: 'ICMP (ping)', specs: [{ protocol: 'icmp', min: 8 }] },
  { id: 'rdp', label: 'RDP (TCP 3389)', specs: [{ protocol: 'tcp', min: 3389, max: 3389 }] },
  {
    id: 'dns',
    label: 'DNS (UDP and TCP 53)',
    specs: [
      { protocol: 'udp', min: 53, max: 53 },
      { protocol: 'tcp', min: 53, max: 53 },
    ],
  },
  { id: 'all_tcp', label: 'All TCP', specs: [{ protocol: 'tcp', min: 1, max: 65535 }] },
  { id: 'all_udp', label: 'All UDP', specs: [{ protocol: 'udp', min: 1, max: 65535 }] },
  { id: 'all_icmp', label: 'All ICMP', specs: [{ protocol: 'icmp' }] },
  { id: 'custom', label: 'Custom rule', specs: [] },
];

const PROTO_NAMES: Record<string, string> = { tcp: 'TCP', udp: 'UDP', icmp: 'ICMP', icmpv6: 'ICMPv6' };

/** "TCP", "ICMP", "Any", or the protocol number. */
export const protocolText = (r: Pick<RuleRow, 'protocol'>) =>
  r.protocol ? (PROTO_NAMES[r.protocol] ?? r.protocol.toUpperCase()) : 'Any';

/** "22", "1–65535", "type 8", "Any". */
export function portText(r: Pick<RuleRow, 'protocol' | 'portRangeMin' | 'portRangeMax'>): string {
  const icmp = r.protocol === 'icmp' || r.protocol === 'icmpv6' || r.protocol === '1' || r.protocol === '58';
  if (icmp) {
    if (r.portRangeMin === null) return 'Any';
    return `type ${r.portRangeMin}${r.portRangeMax !== null ? ` code ${r.portRangeMax}` : ''}`;
  }
  if (r.portRangeMin === null) return 'Any';
  if (r.portRangeMin === r.portRangeMax || r.portRangeMax === null) return String(r.portRangeMin);
  return `${r.portRangeMin}–${r.portRangeMax}`;
}

const num = (s: string): number | undefined => (s.trim() === '' ? undefined : Number(s.trim()));

/** Add rules to a security group, from a preset or custom. */
export function AddRuleDialog({ open, groupId, onClose }: { open: boolean; groupId: string; onClose: () => void }) {
  const trpc = useTRPC();
  const toast = useToast();
  const invalidate = useInvalidate();
  const groups = useQuery({ ...trpc.network.securityGroups.names.queryOptions(), enabled: open });
  const add = useMutation(trpc.network.securityGroups.addRule.mutationOptions(QUIET));
  const [preset, setPreset] = useState('ssh');
  const [direction, setDirection] = useState<'ingress' | 'egress'>('ingress');
  const [ethertype, setEthertype] = useState<'IPv4' | 'IPv6'>('IPv4');
  const [protocol, setProtocol] = useState<Proto>('tcp');
  const [protoNumber, setProtoNumber] = useState('');
  const [min, setMin] = useState('');
  const [max, setMax] = useState('');
  const [remote, setRemote] = useState<'cidr' | 'group'>('cidr');
  const [cidr, setCidr] = useState('0.0.0.0/0');
  const [remoteGroup, setRemoteGroup] = useState('');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!open) return;
    setPreset('ssh');
    setDirection('ingress');
    setEthertype('IPv4');
    setProtocol('tcp');
    setProtoNumber('');
    setMin('');
    setMax('');
    setRemote('cidr');
    setCidr('0.0.0.0/0');
    setDescription('');
    setError(null);
  }, [open]);
  const firstGroup = groups.data?.[0]?.id ?? '';
  useEffect(() => {
    if (open) setRemoteGroup((g) => g || firstGroup);
  }, [open, firstGroup]);
  const custom = preset === 'custom';
  const icmp = protocol === 'icmp';
  const specs = (): Spec[] =>
    custom ? [{ protocol, min: num(min), max: num(max) }] : (PRESETS.find((p) => p.id === preset)?.specs ?? []);
  const submit = async () => {
    setError(null);
    if (custom && protocol === 'number' && !/^\d+$/.test(protoNumber.trim()))
      return setError('Enter the IP protocol number (0–255).');
    if (remote === 'group' && !remoteGroup) return setError('Choose the remote security group.');
    const list = specs();
    try {
      for (const s of list) {
        const six = ethertype === 'IPv6';
        const proto =
          s.protocol === 'any'
            ? null
            : s.protocol === 'number'
              ? protoNumber.trim()
              : s.protocol === 'icmp' && six
                ? 'ipv6-icmp'
                : s.protocol;
        // Echo request is type 8 in ICMP and 128 in ICMPv6.
        const pmin = !custom && s.protocol === 'icmp' && s.min === 8 && six ? 128 : s.min;
        await add.mutateAsync({
          security_group_id: groupId,
          direction,
          ethertype,
          protocol: proto,
          port_range_min: pmin ?? null,
          port_range_max: s.max ?? null,
          ...(remote === 'cidr' ? { remote_ip_prefix: cidr.trim() || null } : { remote_group_id: remoteGroup }),
          description,
        });
      }
      toast.success(list.length > 1 ? `${list.length} rules added` : 'Rule added');
      await invalidate(trpc.network.securityGroups.pathKey());
      onClose();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      await invalidate(trpc.network.securityGroups.pathKey());
    }
  };
  return (
    <FormDialog
      open={open}
      size="lg"
      title="Add rule"
      description="Rules allow traffic; anything no rule allows is dropped."
      onClose={onClose}
      onSubmit={() => void submit()}
      submitLabel="Add rule"
      busy={add.isPending}
      error={error}
    >
      <div className="grid gap-4 sm:grid-cols-3">
        <Field label="Rule" htmlFor="rule-preset">
          <Select id="rule-preset" autoFocus value={preset} onChange={(e) => setPreset(e.target.value)}>
            {PRESETS.map((p) => (
              <option key={p.id} value={p.id}>
                {p.label}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Direction" htmlFor="rule-direction">
          <Select
            id="rule-direction"
            value={direction}
            onChange={(e) => setDirection(e.target.value === 'egress' ? 'egress' : 'ingress')}
          >
            <option value="ingress">Ingress (to the instance)</option>
            <option value="egress">Egress (from the instance)</option>
          </Select>
        </Field>
        <Field label="Ether type" htmlFor="rule-ethertype">
          <Select
            id="rule-ethertype"
            value={ethertype}
            onChange={(e) => {
              const v = e.target.value === 'IPv6' ? 'IPv6' : 'IPv4';
              setEthertype(v);
              setCidr((c) =>
                v === 'IPv6' && c === '0.0.0.0/0' ? '::/0' : v === 'IPv4' && c === '::/0' ? '0.0.0.0/0' : c,
              );
            }}
          >
            <option value="IPv4">IPv4</option>
            <option value="IPv6">IPv6</option>
          </Select>
        </Field>
      </div>
      {custom && (
        <div className="grid gap-4 sm:grid-cols-3">
          <Field label="Protocol" htmlFor="rule-protocol">
            <Select
              id="rule-protocol"
              value={protocol}
              onChange={(e) => {
                const v = e.target.value;
                setProtocol(v === 'udp' || v === 'icmp' || v === 'any' || v === 'number' ? v : 'tcp');
              }}
            >
              <option value="tcp">TCP</option>
              <option value="udp">UDP</option>
              <option value="icmp">ICMP</option>
              <option value="any">Any</option>
              <option value="number">Other (number)</option>
            </Select>
          </Field>
          {protocol === 'number' && (
            <Field label="Protocol number" htmlFor="rule-protocol-number">
              <Input
                id="rule-protocol-number"
                inputMode="numeric"
                value={protoNumber}
                onChange={(e) => setProtoNumber(e.target.value)}
              />
            </Field>
          )}
          {(protocol === 'tcp' || protocol === 'udp' || icmp) && (
            <>
              <Field
                label={icmp ? 'ICMP type' : 'Port (from)'}
                htmlFor="rule-min"
                hint={icmp ? 'Empty: all types.' : 'Empty: all ports.'}
              >
                <Input id="rule-min" inputMode="numeric" value={min} onChange={(e) => setMin(e.target.value)} />
              </Field>
              <Field
                label={icmp ? 'ICMP code' : 'Port (to)'}
                htmlFor="rule-max"
                hint={icmp ? 'Empty: all codes.' : 'Empty: the same port.'}
              >
                <Input id="rule-max" inputMode="numeric" value={max} onChange={(e) => setMax(e.target.value)} />
              </Field>
            </>
          )}
        </div>
      )}
      <div className="grid gap-4 sm:grid-cols-3">
        <Field label="Remote" htmlFor="rule-remote">
          <Select
            id="rule-remote"
            value={remote}
            onChange={(e) => setRemote(e.target.value === 'group' ? 'group' : 'cidr')}
          >
            <option value="cidr">CIDR</option>
            <option value="group">Security group</option>
          </Select>
        </Field>
        <div className="sm:col-span-2">
          {remote === 'cidr' ? (
            <Field
              label="Remote CIDR"
              htmlFor="rule-cidr"
              hint="Where traffic may come from (ingress) or go to (egress)."
            >
              <Input id="rule-cidr" value={cidr} onChange={(e) => setCidr(e.target.value)} />
            </Field>
          ) : (
            <Field label="Remote security group" htmlFor="rule-remote-group" hint="Instances in that group.">
              <Select id="rule-remote-group" value={remoteGroup} onChange={(e) => setRemoteGroup(e.target.value)}>
                {groups.data?.map((g) => (
                  <option key={g.id} value={g.id}>
                    {g.name || g.id.slice(0, 8)}
                  </option>
                ))}
              </Select>
            </Field>
          )}
        </div>
      </div>
      <Field label="Description" htmlFor="rule-description">
        <Input id="rule-description" value={description} onChange={(e) => setDescription(e.target.value)} />
      </Field>
    </FormDialog>
  );
}
