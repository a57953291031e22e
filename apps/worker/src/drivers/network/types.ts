/**
 * The network dataplane of one host, as desired state. Every `ensure*` call is
 * idempotent (calling it twice changes nothing) and takes the whole wanted state of
 * its object, so the agent can rebuild the host from the database after a restart:
 * ensure everything it knows, then `cleanup()` whatever else the driver finds.
 *
 * One interface, several implementations: `linux.ts` (Linux bridge, netns, veth,
 * dnsmasq, nftables); an Open vSwitch driver would be a new file.
 */

export type Ethertype = 'IPv4' | 'IPv6';
export type Direction = 'ingress' | 'egress';

export interface Segmentation {
  type: 'flat' | 'vxlan';
  /** VNI for vxlan. */
  id?: number;
}

export interface EnsureNetworkInput {
  id: string;
  mtu?: number;
  segmentation: Segmentation;
  /** Other hosts' VTEP addresses (vxlan only); unicast head-end replication. */
  peers?: string[];
  /** Remote ports' MACs and the VTEP behind each (vxlan only; l2population unicast entries). */
  remoteMacs?: { mac: string; dst: string }[];
}

export interface ExternalNetworkInput {
  id: string;
  /** e.g. 172.24.4.0/24 — a host-only range. */
  cidr: string;
  /** Put on the host side of the bridge so the host reaches floating IPs. */
  gatewayIp: string;
  mtu?: number;
}

export interface HostRoute {
  destination: string;
  nexthop: string;
}

export interface DhcpSubnet {
  id: string;
  cidr: string;
  gatewayIp?: string | null;
  dnsNameservers?: string[];
  hostRoutes?: HostRoute[];
  enableDhcp: boolean;
  /** IPv6: slaac, dhcpv6-stateful, dhcpv6-stateless or unset (Neutron's subnet modes). */
  ipv6RaMode?: Ipv6Mode | string | null;
  ipv6AddressMode?: Ipv6Mode | string | null;
  /** IPv6: a router interface is on the subnet, so the router sends its RAs. */
  routed?: boolean;
}

export type Ipv6Mode = 'slaac' | 'dhcpv6-stateful' | 'dhcpv6-stateless';

export interface DhcpHost {
  mac: string;
  ip: string;
  hostname?: string;
}

export interface EnsureDhcpInput {
  networkId: string;
  mtu?: number;
  /** DNS domain sent in option 15 (e.g. "openstacklocal"). */
  domain?: string;
  /** The network:dhcp port: its MAC and one fixed IP per DHCP-enabled subnet. */
  dhcpPort: { id: string; mac: string; ips: string[] };
  subnets: DhcpSubnet[];
  ports: DhcpHost[];
  /** Lease time in seconds (default 86400). */
  leaseSeconds?: number;
}

export interface SecurityGroupRule {
  direction: Direction;
  ethertype: Ethertype;
  /** null/'any' = every protocol; numbers are IP protocol numbers. */
  protocol?: 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'any' | number | null;
  /** tcp/udp: first port; icmp: type. */
  portRangeMin?: number | null;
  /** tcp/udp: last port; icmp: code. */
  portRangeMax?: number | null;
  remoteIpPrefix?: string | null;
  /** Remote group already expanded by the caller into member IPs. */
  remoteIps?: string[] | null;
}

export interface AllowedAddressPair {
  ipAddress: string;
  macAddress?: string;
}

export interface EnsurePortInput {
  id: string;
  networkId: string;
  mac: string;
  ips: string[];
  portSecurityEnabled: boolean;
  securityGroups: SecurityGroupRule[];
  allowedAddressPairs?: AllowedAddressPair[];
}

export interface RouterInterface {
  portId: string;
  networkId: string;
  ip: string;
  prefixLen: number;
  mac: string;
  /** IPv6 interfaces: RAs are sent for the prefix when the RA mode is set. */
  ipv6RaMode?: Ipv6Mode | string | null;
  ipv6AddressMode?: Ipv6Mode | string | null;
  /** IPv6: RDNSS in the router advertisements. */
  dnsNameservers?: string[];
}

export interface RouterGateway {
  portId?: string;
  networkId: string;
  ip: string;
  prefixLen: number;
  mac?: string;
  gatewayIp?: string | null;
  snat: boolean;
}

export interface FloatingIpMapping {
  floatingIp: string;
  fixedIp: string;
}

export interface EnsureRouterInput {
  id: string;
  interfaces: RouterInterface[];
  gateway?: RouterGateway | null;
  floatingIps: FloatingIpMapping[];
  routes: HostRoute[];
}

export interface ManagedState {
  networks: string[];
  dhcp: string[];
  routers: string[];
  ports: string[];
  /** Every link the driver created, by name (bridges, veths, vxlan). */
  links: string[];
  namespaces: string[];
  /** dnsmasq and metadata proxy processes this driver started and that still run. */
  pids: number[];
}

export interface CleanupKeep {
  networks?: Iterable<string>;
  routers?: Iterable<string>;
  ports?: Iterable<string>;
  /** Networks that should keep their DHCP namespace (default: the kept networks). */
  dhcp?: Iterable<string>;
}

export interface NetworkDriver {
  ensureNetwork(input: EnsureNetworkInput): Promise<void>;
  deleteNetwork(networkId: string): Promise<void>;
  ensureExternalNetwork(input: ExternalNetworkInput): Promise<void>;
  ensureDhcp(input: EnsureDhcpInput): Promise<void>;
  deleteDhcp(networkId: string): Promise<void>;
  ensurePort(input: EnsurePortInput): Promise<void>;
  deletePort(portId: string): Promise<void>;
  ensureRouter(input: EnsureRouterInput): Promise<void>;
  deleteRouter(routerId: string): Promise<void>;
  listManaged(): Promise<ManagedState>;
  cleanup(keep: CleanupKeep): Promise<ManagedState>;
}
