import type { Inventory, ResourceProvider } from '@stratus/core';
import type { Microversion } from './microversion.ts';

const PREFIX = '/placement';

/** A resource provider as placement renders it at microversion v. */
export function providerJson(rp: ResourceProvider, v: Microversion) {
  const self = `${PREFIX}/resource_providers/${rp.uuid}`;
  const links = [
    { rel: 'self', href: self },
    { rel: 'inventories', href: `${self}/inventories` },
    { rel: 'usages', href: `${self}/usages` },
  ];
  if (v.ge(1)) links.push({ rel: 'aggregates', href: `${self}/aggregates` });
  if (v.ge(6)) links.push({ rel: 'traits', href: `${self}/traits` });
  if (v.ge(11)) links.push({ rel: 'allocations', href: `${self}/allocations` });
  return {
    uuid: rp.uuid,
    name: rp.name,
    generation: rp.generation,
    ...(v.ge(14) ? { parent_provider_uuid: rp.parentProviderUuid, root_provider_uuid: rp.rootProviderUuid } : {}),
    links,
  };
}

export function inventoryJson(inv: Inventory) {
  return {
    total: inv.total,
    reserved: inv.reserved,
    min_unit: inv.minUnit,
    max_unit: inv.maxUnit,
    step_size: inv.stepSize,
    allocation_ratio: inv.allocationRatio,
  };
}

export function resourceClassJson(name: string) {
  return { name, links: [{ rel: 'self', href: `${PREFIX}/resource_classes/${name}` }] };
}
