import { loadConfig, type JobDefinition } from '@stratus/core';
import { getPrisma } from '@stratus/db';
import { databaseUrl } from '@stratus/core';
import { ImageCache } from '../drivers/compute/image-cache.ts';
import { LibvirtDriver } from '../drivers/compute/libvirt.ts';
import { computeJobs, type ComputeDeps } from './compute.ts';
import { networkDeps, networkJobs, syncHostSerialized } from './network.ts';
import { objectStoreJobs } from './objectstore.ts';
import { prepareBootVolumes, startVolumeBackend, volumeDeps, volumeJobs } from './volume.ts';

/*
 * Every job the worker can run. Each service adds its definitions here; a job is
 * routed to this host when its definition is hostBound. Drivers are made on first use,
 * so a worker without the compute role never touches libvirt.
 */
let compute: ComputeDeps | undefined;
export function computeDeps(): ComputeDeps {
  if (!compute) {
    const config = loadConfig();
    compute = {
      db: getPrisma(databaseUrl(config)),
      host: config.host,
      driver: new LibvirtDriver({ stateDir: config.stateDir }),
      images: new ImageCache({ stateDir: config.stateDir }),
      syncNetwork: async () => {
        await syncHostSerialized(networkDeps());
      },
      volumes: (serverId) => prepareBootVolumes(volumeDeps(computeDeps()), serverId),
    };
  }
  return compute;
}

export const jobs: JobDefinition[] = [
  ...computeJobs(computeDeps),
  ...networkJobs,
  ...objectStoreJobs,
  ...volumeJobs(() => volumeDeps(computeDeps())),
];

/** The volume role registers this host's backend (and refreshes its capacity) for the scheduler. */
export function startVolumeRole(): () => void {
  return startVolumeBackend(() => volumeDeps(computeDeps()));
}
