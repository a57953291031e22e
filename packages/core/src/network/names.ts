/**
 * Host device names, following Neutron's Linux bridge agent. Core computes them for
 * compute (the tap a guest plugs into, the bridge it joins); the Linux driver in
 * apps/worker/src/drivers/network/names.ts re-exports these, so both sides agree.
 * Linux interface names hold at most 15 characters, hence the 11-character slices.
 */
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
const ID_SLICE = 11;

export function checkDeviceId(kind: string, id: string): string {
  if (!ID_RE.test(id)) throw new Error(`invalid ${kind} id ${JSON.stringify(id)}`);
  return id;
}
export const bridgeName = (networkId: string): string => `brq${checkDeviceId('network', networkId).slice(0, ID_SLICE)}`;
export const tapName = (portId: string): string => `tap${checkDeviceId('port', portId).slice(0, ID_SLICE)}`;
