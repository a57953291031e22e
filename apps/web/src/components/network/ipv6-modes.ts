/*
 * The subnet form's "IPv6 address mode": one choice that sets Neutron's ipv6_ra_mode and
 * ipv6_address_mode to the same value, as Horizon's "IPv6 Address Configuration Mode"
 * does (its choices are none/none, slaac/slaac, dhcpv6-stateful/dhcpv6-stateful and
 * dhcpv6-stateless/dhcpv6-stateless). Pure, so the unit tests need no browser.
 */

export const IPV6_FORM_MODES = ['slaac', 'dhcpv6-stateful', 'dhcpv6-stateless', 'none'] as const;
export type Ipv6FormMode = (typeof IPV6_FORM_MODES)[number];

/** The select's options, in Horizon's words. */
export const IPV6_MODE_OPTIONS: { value: Ipv6FormMode; label: string }[] = [
  { value: 'slaac', label: 'SLAAC: address from the router (EUI-64)' },
  { value: 'dhcpv6-stateful', label: 'DHCPv6 stateful: address from DHCP' },
  { value: 'dhcpv6-stateless', label: 'DHCPv6 stateless: address from the router, options from DHCP' },
  { value: 'none', label: 'None: addresses configured manually or outside the cloud' },
];

/** What a new IPv6 subnet starts with: SLAAC on a /64, what most guests configure on their own. */
export const DEFAULT_IPV6_MODE: Ipv6FormMode = 'slaac';

export const asIpv6FormMode = (v: string): Ipv6FormMode =>
  (IPV6_FORM_MODES as readonly string[]).includes(v) ? (v as Ipv6FormMode) : 'none';

/** Neutron's two attributes for a form mode ("none" sends neither). */
export function ipv6ModeAttributes(
  mode: Ipv6FormMode,
): { ipv6_ra_mode: Exclude<Ipv6FormMode, 'none'>; ipv6_address_mode: Exclude<Ipv6FormMode, 'none'> } | null {
  return mode === 'none' ? null : { ipv6_ra_mode: mode, ipv6_address_mode: mode };
}

/** The form's mode for an existing subnet: its address mode, or its RA mode when only that is set. */
export const ipv6FormModeOf = (s: { ipv6RaMode: string | null; ipv6AddressMode: string | null }): Ipv6FormMode =>
  asIpv6FormMode(s.ipv6AddressMode ?? s.ipv6RaMode ?? 'none');

/** SLAAC and DHCPv6 stateless subnets give each port its EUI-64 address: allocation pools do not apply. */
export const isAutoAddressMode = (mode: Ipv6FormMode) => mode === 'slaac' || mode === 'dhcpv6-stateless';

const SHORT: Record<string, string> = {
  slaac: 'SLAAC',
  'dhcpv6-stateful': 'DHCPv6 stateful',
  'dhcpv6-stateless': 'DHCPv6 stateless',
};

/**
 * A subnet's modes for its row: "SLAAC" when both are the same, "RA: SLAAC, address: none"
 * when they differ (the REST API allows setting one), null on IPv4 and when neither is set.
 */
export function ipv6ModeText(s: {
  ipVersion: number;
  ipv6RaMode: string | null;
  ipv6AddressMode: string | null;
}): string | null {
  if (s.ipVersion !== 6 || (!s.ipv6RaMode && !s.ipv6AddressMode)) return null;
  const name = (m: string | null) => (m ? (SHORT[m] ?? m) : 'none');
  if (s.ipv6RaMode === s.ipv6AddressMode) return name(s.ipv6RaMode);
  return `RA: ${name(s.ipv6RaMode)}, address: ${name(s.ipv6AddressMode)}`;
}
