import { z } from 'zod';
import type { HypervisorType, NicSpec, VolumeAttachSpec } from './types.ts';
import { HypervisorError } from './types.ts';

/*
 * Pure builders of libvirt XML. Every value is validated and escaped here, so a
 * name or path can never change the structure of the document.
 */

export interface DomainXmlSpec {
  name: string;
  uuid: string;
  type: HypervisorType;
  vcpus: number;
  memoryMb: number;
  diskPath: string;
  diskFormat?: 'qcow2' | 'raw';
  serialLogPath: string;
  nics: NicSpec[];
  configDrivePath?: string;
  displayName?: string;
  /** Stratus release, shown to the guest in SMBIOS. */
  version?: string;
}

const absPath = z
  .string()
  .min(2)
  .startsWith('/')
  .refine((p) => !p.split('/').includes('..'), 'must not contain ..')
  .refine((p) => !hasControlChars(p), 'must not contain control characters');

function hasControlChars(s: string): boolean {
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

export const uuidSchema = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'must be a lower-case uuid');

const nicSchema = z.object({
  mac: z.string().regex(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/, 'must be a lower-case MAC address'),
  bridge: z.string().regex(/^[A-Za-z0-9_.-]{1,15}$/, 'must be a Linux interface name'),
  // libvirt reserves vnet*, vif*, macvtap*, macvlan* for names it generates.
  tapName: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,15}$/, 'must be 1-15 characters of [A-Za-z0-9_.-]')
    .refine((t) => !/^(vnet|vif|macvtap|macvlan)/.test(t), 'uses a prefix libvirt reserves'),
  mtu: z.number().int().min(68).max(65535).optional(),
});

const specSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1-64 characters of [A-Za-z0-9_.:-]'),
  uuid: uuidSchema,
  type: z.enum(['kvm', 'qemu']),
  vcpus: z.number().int().min(1).max(255),
  memoryMb: z.number().int().min(16),
  diskPath: absPath,
  diskFormat: z.enum(['qcow2', 'raw']).default('qcow2'),
  serialLogPath: absPath,
  nics: z.array(nicSchema).max(16),
  configDrivePath: absPath.optional(),
  displayName: z.string().max(255).optional(),
  version: z.string().max(64).optional(),
});

const volumeSchema = z.object({
  path: absPath,
  format: z.enum(['raw', 'qcow2']),
  targetDev: z.string().regex(/^vd[a-z]{1,2}$/, "must be a virtio disk name such as 'vdb'"),
  serial: z.string().regex(/^[A-Za-z0-9_.-]{1,20}$/, 'must be 1-20 characters of [A-Za-z0-9_.-]'),
  readOnly: z.boolean().optional(),
});

function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue?.path.join('.') || what;
    throw new HypervisorError('InvalidSpec', `invalid ${what}: ${where} ${issue?.message ?? ''}`.trim());
  }
  return r.data;
}

/** Escapes text for an XML element body or a single- or double-quoted attribute. */
export function xmlEscape(value: string | number): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/'/g, '&apos;')
    .replace(/"/g, '&quot;');
}

/** Removes characters XML 1.0 cannot carry at all (escaping does not help for those). */
function xmlText(value: string): string {
  let out = '';
  for (const ch of value) {
    const c = ch.codePointAt(0) ?? 0;
    if (c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c !== 0xfffe && c !== 0xffff)) out += ch;
  }
  return xmlEscape(out);
}

const e = xmlEscape;

export function buildDomainXml(input: DomainXmlSpec): string {
  const s = parse(specSchema, input, 'domain spec');
  const lines: string[] = [];
  const add = (indent: number, text: string) => lines.push(`${'  '.repeat(indent)}${text}`);

  add(0, `<domain type='${s.type}'>`);
  add(1, `<name>${e(s.name)}</name>`);
  add(1, `<uuid>${e(s.uuid)}</uuid>`);
  add(1, '<metadata>');
  add(2, `<stratus:instance xmlns:stratus='https://stratus.dev/xmlns/libvirt/instance/1'>`);
  if (s.displayName !== undefined) add(3, `<stratus:name>${xmlText(s.displayName)}</stratus:name>`);
  add(3, `<stratus:flavor vcpus='${s.vcpus}' memoryMb='${s.memoryMb}'/>`);
  add(2, '</stratus:instance>');
  add(1, '</metadata>');
  add(1, `<memory unit='MiB'>${s.memoryMb}</memory>`);
  add(1, `<currentMemory unit='MiB'>${s.memoryMb}</currentMemory>`);
  add(1, `<vcpu placement='static'>${s.vcpus}</vcpu>`);
  // cloud-init recognises an OpenStack cloud by this SMBIOS product name.
  add(1, `<sysinfo type='smbios'>`);
  add(2, '<system>');
  add(3, `<entry name='manufacturer'>Stratus</entry>`);
  add(3, `<entry name='product'>OpenStack Compute</entry>`);
  if (s.version !== undefined) add(3, `<entry name='version'>${e(s.version)}</entry>`);
  add(3, `<entry name='serial'>${e(s.uuid)}</entry>`);
  add(3, `<entry name='uuid'>${e(s.uuid)}</entry>`);
  add(3, `<entry name='family'>Virtual Machine</entry>`);
  add(2, '</system>');
  add(1, '</sysinfo>');
  add(1, '<os>');
  add(2, `<type arch='x86_64' machine='pc'>hvm</type>`);
  add(2, `<boot dev='hd'/>`);
  add(2, `<smbios mode='sysinfo'/>`);
  add(1, '</os>');
  // ACPI so that `virsh shutdown` reaches the guest as a power-button press.
  add(1, '<features>');
  add(2, '<acpi/>');
  add(2, '<apic/>');
  add(1, '</features>');
  // TCG cannot pass the host CPU through; KVM gets the host's model (Nova's default).
  if (s.type === 'kvm') add(1, `<cpu mode='host-model'/>`);
  add(1, `<clock offset='utc'>`);
  add(2, `<timer name='rtc' tickpolicy='catchup'/>`);
  add(2, `<timer name='pit' tickpolicy='delay'/>`);
  add(2, `<timer name='hpet' present='no'/>`);
  add(1, '</clock>');
  add(1, '<on_poweroff>destroy</on_poweroff>');
  add(1, '<on_reboot>restart</on_reboot>');
  add(1, '<on_crash>destroy</on_crash>');
  add(1, '<devices>');
  add(2, `<disk type='file' device='disk'>`);
  add(3, `<driver name='qemu' type='${s.diskFormat}' discard='unmap'/>`);
  add(3, `<source file='${e(s.diskPath)}'/>`);
  add(3, `<target dev='vda' bus='virtio'/>`);
  add(2, '</disk>');
  if (s.configDrivePath !== undefined) {
    add(2, `<disk type='file' device='cdrom'>`);
    add(3, `<driver name='qemu' type='raw'/>`);
    add(3, `<source file='${e(s.configDrivePath)}'/>`);
    add(3, `<target dev='hdd' bus='ide'/>`);
    add(3, '<readonly/>');
    add(2, '</disk>');
  }
  for (const nic of s.nics) {
    add(2, `<interface type='bridge'>`);
    add(3, `<mac address='${e(nic.mac)}'/>`);
    add(3, `<source bridge='${e(nic.bridge)}'/>`);
    add(3, `<target dev='${e(nic.tapName)}'/>`);
    add(3, `<model type='virtio'/>`);
    if (nic.mtu !== undefined) add(3, `<mtu size='${nic.mtu}'/>`);
    add(2, '</interface>');
  }
  // append='on': a restart starts a new QEMU, and with 'off' virtlogd would wipe the
  // previous boot's output (the evidence of why it stopped). virtlogd rotates the file.
  add(2, `<serial type='pty'>`);
  add(3, `<log file='${e(s.serialLogPath)}' append='on'/>`);
  add(3, `<target port='0'/>`);
  add(2, '</serial>');
  add(2, `<console type='pty'>`);
  add(3, `<target type='serial' port='0'/>`);
  add(2, '</console>');
  add(2, `<input type='keyboard' bus='ps2'/>`);
  add(2, `<input type='mouse' bus='ps2'/>`);
  add(2, `<graphics type='vnc' autoport='yes' listen='127.0.0.1'>`);
  add(3, `<listen type='address' address='127.0.0.1'/>`);
  add(2, '</graphics>');
  add(2, '<video>');
  add(3, `<model type='vga'/>`);
  add(2, '</video>');
  add(2, `<rng model='virtio'>`);
  add(3, `<backend model='random'>/dev/urandom</backend>`);
  add(2, '</rng>');
  add(2, `<memballoon model='virtio'>`);
  add(3, `<stats period='10'/>`);
  add(2, '</memballoon>');
  add(1, '</devices>');
  add(0, '</domain>');
  return `${lines.join('\n')}\n`;
}

/** The <disk> element for attach-device; a path under /dev is attached as a block device. */
export function buildVolumeDiskXml(input: VolumeAttachSpec, opts: { blockDevice: boolean }): string {
  const v = parse(volumeSchema, input, 'volume');
  const kind = opts.blockDevice ? 'block' : 'file';
  const source = opts.blockDevice ? `<source dev='${e(v.path)}'/>` : `<source file='${e(v.path)}'/>`;
  return [
    `<disk type='${kind}' device='disk'>`,
    `  <driver name='qemu' type='${v.format}' discard='unmap'/>`,
    `  ${source}`,
    `  <target dev='${e(v.targetDev)}' bus='virtio'/>`,
    `  <serial>${e(v.serial)}</serial>`,
    ...(v.readOnly ? ['  <readonly/>'] : []),
    '</disk>',
    '',
  ].join('\n');
}

/** Validates a guest disk name before it is passed to virsh. */
export function checkTargetDev(targetDev: string): string {
  return parse(volumeSchema.shape.targetDev, targetDev, 'targetDev');
}
