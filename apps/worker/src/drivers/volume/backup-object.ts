import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  accountOfProject,
  deleteObject,
  emptyChange,
  headContainer,
  isStratusError,
  listContainer,
  type ObjectCaller,
  putContainer,
  putObject,
  readObject,
} from '@stratus/core';
import type { BackupTarget } from './backup.ts';
import { VolumeDriverError } from './types.ts';

/*
 * The object-store backup target, as Cinder's swift backup driver: a backup's chunks and its
 * metadata object are objects in the owner's account (AUTH_<project>), in the container the
 * user named or `volumebackups`, under the prefix `<backup id>/`. Writes go through the Swift
 * API's core functions (the ones the REST handlers call), so they are real replicated writes
 * to the object servers, listed in the container, visible to `swift list`, and subject to
 * the account's and container's quotas like any upload by the owner. The container is made
 * on first use, as Cinder does.
 */
const LIST_PAGE = 1000;

export class ObjectStoreBackupTarget implements BackupTarget {
  readonly name = 'object';
  /** Chunks written at once by writeBackup (each goes to 3 object servers). */
  readonly parallel = 4;
  private readonly account: string;
  private readonly containers = new Set<string>();

  constructor(
    private readonly o: {
      caller: ObjectCaller;
      projectId: string;
      /** Opens this process's object backend if it is not open yet. */
      ready?: () => Promise<void>;
    },
  ) {
    this.account = accountOfProject(o.projectId);
  }

  private async ensureContainer(container: string): Promise<void> {
    if (this.containers.has(container)) return;
    try {
      await headContainer(this.o.caller, this.account, container);
    } catch (err) {
      if (!isStratusError(err) || err.code !== 'NotFound') throw err;
      await putContainer(this.o.caller, this.account, container, { meta: emptyChange() });
    }
    this.containers.add(container);
  }

  async put(container: string, object: string, data: Buffer): Promise<void> {
    await this.o.ready?.();
    await this.ensureContainer(container);
    await putObject(this.o.caller, {
      path: { account: this.account, container, object },
      body: Readable.from([data]),
      contentLength: data.length,
      // The object servers check it: a chunk damaged on the way is refused (422), not stored.
      etag: createHash('md5').update(data).digest('hex'),
      contentType: object.endsWith('.json') ? 'application/json' : 'application/octet-stream',
      userMeta: {},
      headers: {},
    });
  }

  async get(container: string, object: string): Promise<Buffer> {
    await this.o.ready?.();
    try {
      const r = await readObject(this.o.caller, { path: { account: this.account, container, object } });
      if (!r.body) throw new VolumeDriverError('Failed', `backup object ${container}/${object} has no body`);
      const parts: Buffer[] = [];
      for await (const c of r.body) parts.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array));
      return Buffer.concat(parts);
    } catch (err) {
      if (isStratusError(err) && err.code === 'NotFound')
        throw new VolumeDriverError('NotFound', `backup object ${container}/${object} is missing`);
      throw err;
    }
  }

  async deletePrefix(container: string, prefix: string): Promise<number> {
    await this.o.ready?.();
    let deleted = 0;
    let marker: string | undefined;
    for (;;) {
      let page: string[];
      try {
        const r = await listContainer(this.o.caller, this.account, container, {
          prefix,
          limit: LIST_PAGE,
          ...(marker !== undefined ? { marker } : {}),
        });
        page = r.entries.flatMap((e) => (e.kind === 'item' ? [e.item.name] : []));
      } catch (err) {
        // No container: nothing of this backup was ever stored.
        if (isStratusError(err) && err.code === 'NotFound') return deleted;
        throw err;
      }
      for (const name of page) {
        try {
          await deleteObject(this.o.caller, { account: this.account, container, object: name });
          deleted++;
        } catch (err) {
          if (!isStratusError(err) || err.code !== 'NotFound') throw err;
        }
      }
      if (page.length < LIST_PAGE) return deleted;
      marker = page[page.length - 1];
    }
  }
}
