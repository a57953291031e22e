/**
 * Device, namespace and table names, following Neutron's Linux bridge agent so an
 * operator who knows OpenStack recognises them. Linux interface names hold at most
 * 15 characters, hence the 11-character id slices.
 */

import { checkDeviceId } from '@stratus/core/network/names';

const ID_SLICE = 11;

/** Ids end up in file paths, nft strings and ifaliases: allow only safe characters. */
export const checkId = checkDeviceId;

/** The bridge and VM tap names come from core, which hands them to compute (one definition). */
export { bridgeName, tapName } from '@stratus/core/network/names';
/** Namespace side of the DHCP port's veth; the host side is its tap name. */
export const dhcpNsIf = (portId: string) => `ns-${checkId('port', portId).slice(0, ID_SLICE)}`;
export const routerIf = (portId: string) => `qr-${checkId('port', portId).slice(0, ID_SLICE)}`;
export const gatewayIf = (portId: string) => `qg-${checkId('port', portId).slice(0, ID_SLICE)}`;
export const vxlanName = (vni: number) => `vxlan-${vni}`;
export const dhcpNamespace = (networkId: string) => `qdhcp-${checkId('network', networkId)}`;
export const routerNamespace = (routerId: string) => `qrouter-${checkId('router', routerId)}`;

const LINK_KINDS = ['network', 'external', 'vxlan', 'dhcp', 'router', 'gateway', 'namespace'] as const;
export type LinkKind = (typeof LINK_KINDS)[number];
const isLinkKind = (k: string): k is LinkKind => (LINK_KINDS as readonly string[]).includes(k);

/**
 * Every link the driver creates carries an ifalias `<marker> <kind> <full id>`: the
 * truncated name cannot be mapped back to its id, and the marker lets a test (or a
 * second Stratus on one host) find exactly what it created and nothing else.
 */
export function linkAlias(marker: string, kind: LinkKind, id: string): string {
  return `${marker} ${kind} ${id}`;
}

export function parseAlias(marker: string, alias: string | undefined): { kind: LinkKind; id: string } | null {
  if (!alias) return null;
  const parts = alias.split(' ');
  if (parts.length !== 3 || parts[0] !== marker) return null;
  const kind = parts[1];
  const id = parts[2];
  if (!kind || !id || !isLinkKind(kind)) return null;
  return { kind, id };
}

/** nft table names: letters, digits and underscores. */
export function tableName(marker: string): string {
  const t = marker.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z_]/.test(t) ? t : `s_${t}`;
}

export function checkMarker(marker: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,31}$/.test(marker)) throw new Error(`invalid marker ${JSON.stringify(marker)}`);
  return marker;
}
