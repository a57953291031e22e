import { describe, expect, it } from 'vitest';
import { buildDomainXml, buildVolumeDiskXml, type DomainXmlSpec, xmlEscape } from './domain-xml.ts';
import { HypervisorError } from './types.ts';

const base: DomainXmlSpec = {
  name: 'stratus-0b6f4b4e-7c1e-4f7c-9f51-2f1d0a3c9e11',
  uuid: '0b6f4b4e-7c1e-4f7c-9f51-2f1d0a3c9e11',
  type: 'qemu',
  vcpus: 2,
  memoryMb: 256,
  diskPath: '/var/lib/stratus/instances/0b6f4b4e-7c1e-4f7c-9f51-2f1d0a3c9e11/disk',
  serialLogPath: '/var/lib/stratus/instances/0b6f4b4e-7c1e-4f7c-9f51-2f1d0a3c9e11/console.log',
  nics: [],
};

const count = (xml: string, re: RegExp) => (xml.match(new RegExp(re.source, 'g')) ?? []).length;

function invalid(spec: Partial<DomainXmlSpec>, field: string) {
  let caught: unknown;
  try {
    buildDomainXml({ ...base, ...spec });
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(HypervisorError);
  expect((caught as HypervisorError).code).toBe('InvalidSpec');
  expect((caught as HypervisorError).message).toContain(field);
}

describe('buildDomainXml', () => {
  it('builds a TCG domain when the type is qemu, with no host CPU model', () => {
    const xml = buildDomainXml(base);
    expect(xml).toMatch(/^<domain type='qemu'>/);
    expect(xml).not.toContain('<cpu');
  });

  it('builds a KVM domain with the host CPU model when the type is kvm', () => {
    const xml = buildDomainXml({ ...base, type: 'kvm' });
    expect(xml).toMatch(/^<domain type='kvm'>/);
    expect(xml).toContain(`<cpu mode='host-model'/>`);
  });

  it('names the domain, carries the uuid and sizes CPU and memory', () => {
    const xml = buildDomainXml(base);
    expect(xml).toContain(`<name>${base.name}</name>`);
    expect(xml).toContain(`<uuid>${base.uuid}</uuid>`);
    expect(xml).toContain(`<vcpu placement='static'>2</vcpu>`);
    expect(xml).toContain(`<memory unit='MiB'>256</memory>`);
    expect(xml).toContain(`<currentMemory unit='MiB'>256</currentMemory>`);
  });

  it('has every device a server needs', () => {
    const xml = buildDomainXml(base);
    expect(xml).toContain(`<source file='${base.diskPath}'/>`);
    expect(xml).toContain(`<target dev='vda' bus='virtio'/>`);
    expect(xml).toContain(`<driver name='qemu' type='qcow2' discard='unmap'/>`);
    expect(xml).toMatch(/<serial type='pty'>\s*<log file='[^']+\/console\.log' append='on'\/>/);
    expect(xml).toMatch(/<console type='pty'>\s*<target type='serial' port='0'\/>/);
    expect(xml).toContain(`<graphics type='vnc' autoport='yes' listen='127.0.0.1'>`);
    expect(xml).not.toMatch(/listen='0\.0\.0\.0'/);
    expect(xml).toMatch(/<video>\s*<model type='vga'\/>/);
    expect(xml).toContain(`<rng model='virtio'>`);
    expect(xml).toContain(`<memballoon model='virtio'>`);
    expect(xml).toMatch(/<features>\s*<acpi\/>/);
    expect(xml).toContain('<on_poweroff>destroy</on_poweroff>');
    expect(xml).toContain(`<entry name='product'>OpenStack Compute</entry>`);
    expect(count(xml, /<interface /)).toBe(0);
    expect(xml).not.toContain(`device='cdrom'`);
  });

  it('plugs each NIC into its bridge through the named tap', () => {
    const xml = buildDomainXml({
      ...base,
      nics: [
        { mac: 'fa:16:3e:00:00:01', bridge: 'brq1234', tapName: 'tap0b6f4b4e-7c', mtu: 1450 },
        { mac: 'fa:16:3e:00:00:02', bridge: 'brq5678', tapName: 'tap9a8b7c6d-5e' },
      ],
    });
    expect(count(xml, /<interface type='bridge'>/)).toBe(2);
    expect(xml).toMatch(
      /<mac address='fa:16:3e:00:00:01'\/>\s*<source bridge='brq1234'\/>\s*<target dev='tap0b6f4b4e-7c'\/>\s*<model type='virtio'\/>\s*<mtu size='1450'\/>/,
    );
    expect(count(xml, /<mtu /)).toBe(1);
  });

  it('attaches a config drive read-only', () => {
    const xml = buildDomainXml({ ...base, configDrivePath: '/srv/x/disk.config' });
    expect(xml).toMatch(
      /<disk type='file' device='cdrom'>\s*<driver name='qemu' type='raw'\/>\s*<source file='\/srv\/x\/disk.config'\/>\s*<target dev='hdd' bus='ide'\/>\s*<readonly\/>/,
    );
  });

  it('escapes values so they cannot change the document', () => {
    const xml = buildDomainXml({
      ...base,
      diskPath: `/srv/a'b"c&d<e>/disk`,
      serialLogPath: `/srv/x'/><log file='/etc/passwd/console.log`,
      displayName: `</stratus:name></stratus:instance></metadata><devices><disk/></devices>\u0001`,
    });
    expect(xml).toContain(`<source file='/srv/a&apos;b&quot;c&amp;d&lt;e&gt;/disk'/>`);
    expect(xml).toContain(`<log file='/srv/x&apos;/&gt;&lt;log file=&apos;/etc/passwd/console.log' append='on'/>`);
    expect(count(xml, /<devices>/)).toBe(1);
    expect(count(xml, /<log /)).toBe(1);
    expect(xml).toContain('&lt;/stratus:name&gt;');
    expect(xml).not.toContain('\u0001');
  });

  it('refuses values that escaping cannot make safe', () => {
    invalid({ uuid: '../../etc' }, 'uuid');
    invalid({ name: 'a b' }, 'name');
    invalid({ diskPath: 'relative/disk' }, 'diskPath');
    invalid({ diskPath: '/srv/../etc/shadow' }, 'diskPath');
    invalid({ serialLogPath: '/srv/x\n/console.log' }, 'serialLogPath');
    invalid({ vcpus: 0 }, 'vcpus');
    invalid({ memoryMb: 1.5 }, 'memoryMb');
    const nic = { mac: 'fa:16:3e:00:00:01', bridge: 'br0', tapName: 'tap1' };
    invalid({ nics: [{ ...nic, tapName: 'tap0123456789abc' }] }, 'tapName');
    invalid({ nics: [{ ...nic, tapName: 'vnet0' }] }, 'tapName');
    invalid({ nics: [{ ...nic, tapName: "t'ap" }] }, 'tapName');
    invalid({ nics: [{ ...nic, mac: 'FA:16:3E:00:00:01' }] }, 'mac');
    invalid({ nics: [{ ...nic, bridge: 'br0; reboot' }] }, 'bridge');
    invalid({ nics: [{ ...nic, mtu: 20 }] }, 'mtu');
  });
});

describe('buildVolumeDiskXml', () => {
  const vol = { path: '/var/lib/stratus/volumes/v1', format: 'qcow2' as const, targetDev: 'vdb', serial: 'v1-serial' };

  it('attaches a file volume as a virtio disk with its serial', () => {
    const xml = buildVolumeDiskXml(vol, { blockDevice: false });
    expect(xml).toMatch(/^<disk type='file' device='disk'>/);
    expect(xml).toContain(`<driver name='qemu' type='qcow2' discard='unmap'/>`);
    expect(xml).toContain(`<source file='/var/lib/stratus/volumes/v1'/>`);
    expect(xml).toContain(`<target dev='vdb' bus='virtio'/>`);
    expect(xml).toContain('<serial>v1-serial</serial>');
    expect(xml).not.toContain('<readonly/>');
  });

  it('attaches a block device by dev, read-only when asked', () => {
    const xml = buildVolumeDiskXml(
      { ...vol, path: '/dev/loop3', format: 'raw', readOnly: true },
      { blockDevice: true },
    );
    expect(xml).toMatch(/^<disk type='block' device='disk'>/);
    expect(xml).toContain(`<source dev='/dev/loop3'/>`);
    expect(xml).toContain('<readonly/>');
  });

  it('refuses a bad target or serial', () => {
    expect(() => buildVolumeDiskXml({ ...vol, targetDev: 'sda' }, { blockDevice: false })).toThrow(/targetDev/);
    expect(() => buildVolumeDiskXml({ ...vol, serial: '<x>' }, { blockDevice: false })).toThrow(/serial/);
  });
});

describe('xmlEscape', () => {
  it('escapes the five XML specials', () => {
    expect(xmlEscape(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
  });
});
