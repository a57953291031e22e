import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb } from '../../../../../test/helpers.ts';
import type { AuthContext } from '../../identity/types.ts';
import { adminContext, projectWithMember, setupIdentityTest } from '../../identity/test-support.ts';
import { startTestObjectCluster, type TestObjectCluster } from '../test-support.ts';
import type { ObjectCaller } from './access.ts';
import { createPseudoFolder, deleteObjectsUnder, setContainerPublic } from './browser.ts';
import { headContainer, listContainer, putContainer } from './containers.ts';
import { putObject, readObject } from './objects.ts';
import { setObjectBackend } from './store.ts';

/*
 * The object browser's operations over the real replicated backend (three object servers
 * on temp folders) and the listing in PostgreSQL, with real Keystone callers.
 */
let cluster: TestObjectCluster;
let owner: ObjectCaller;
let other: ObjectCaller;
let account: string;

const put = (container: string, object: string, body: string) =>
  putObject(owner, {
    path: { account, container, object },
    body: Readable.from([Buffer.from(body)]),
    contentLength: Buffer.byteLength(body),
    userMeta: {},
    headers: {},
  });

const names = async (container: string, opts: { prefix?: string; delimiter?: string } = {}) =>
  (await listContainer(owner, account, container, opts)).entries.map((e) =>
    e.kind === 'subdir' ? e.subdir : e.item.name,
  );

beforeAll(async () => {
  await setupIdentityTest(testDb().url);
  const admin: AuthContext = await adminContext();
  const a = await projectWithMember(admin);
  const b = await projectWithMember(admin);
  owner = { kind: 'token', ctx: a.auth.context };
  other = { kind: 'token', ctx: b.auth.context };
  account = `AUTH_${a.project.id}`;
  cluster = await startTestObjectCluster();
  setObjectBackend(cluster.backend);
});

afterAll(async () => {
  setObjectBackend(undefined);
  await cluster?.close();
});

describe('object browser operations', () => {
  it('creates a pseudo-folder that shows in delimiter listings', async () => {
    await putContainer(owner, account, 'docs', { meta: { set: {}, remove: [] } });
    const view = await createPseudoFolder(owner, account, 'docs', '/reports/2026/');
    expect(view.path.object).toBe('reports/2026/');
    expect(view.size).toBe(0);
    expect(await names('docs', { delimiter: '/' })).toEqual(['reports/']);
    expect(await names('docs', { prefix: 'reports/', delimiter: '/' })).toEqual(['reports/2026/']);
    const r = await readObject(owner, { path: { account, container: 'docs', object: 'reports/2026/' }, head: true });
    expect(r.view.contentType).toBe('application/directory');
    await expect(createPseudoFolder(other, account, 'docs', 'x')).rejects.toMatchObject({ code: 'Forbidden' });
  });

  it('deletes everything under a prefix in rounds, and nothing else', async () => {
    await putContainer(owner, account, 'bulk', { meta: { set: {}, remove: [] } });
    for (let i = 0; i < 5; i++) await put('bulk', `dir/f${i}`, `body ${i}`);
    await put('bulk', 'dir2/keep', 'keep');
    await put('bulk', 'top', 'keep');
    await expect(deleteObjectsUnder(other, account, 'bulk', 'dir/', 2)).rejects.toMatchObject({ code: 'Forbidden' });
    const first = await deleteObjectsUnder(owner, account, 'bulk', 'dir/', 2);
    expect(first).toMatchObject({ deleted: 2, errors: [], more: true });
    let rounds = 1;
    for (let r = first; r.more; rounds++) r = await deleteObjectsUnder(owner, account, 'bulk', 'dir/', 2);
    expect(rounds).toBeGreaterThanOrEqual(3);
    expect(await names('bulk')).toEqual(['dir2/keep', 'top']);
    // A whole container's contents (prefix ''): then the container is empty.
    expect(await deleteObjectsUnder(owner, account, 'bulk', '')).toMatchObject({ deleted: 2, more: false });
    expect((await headContainer(owner, account, 'bulk')).objectCount).toBe(0);
    expect(await deleteObjectsUnder(owner, account, 'bulk', '')).toMatchObject({ deleted: 0, more: false });
  });

  it('switches public read on and off, keeping other grants, and anonymous reads follow', async () => {
    await putContainer(owner, account, 'pub', { meta: { set: {}, remove: [] }, readAcl: 'someproject:*' });
    await put('pub', 'hello.txt', 'hello');
    const anon: ObjectCaller = { kind: 'anonymous' };
    const path = { account, container: 'pub', object: 'hello.txt' };
    await expect(readObject(anon, { path })).rejects.toMatchObject({ code: 'Unauthorized' });
    const acl = await setContainerPublic(owner, account, 'pub', 'someproject:*', true);
    expect(acl).toBe('.r:*,.rlistings,someproject:*');
    expect((await headContainer(owner, account, 'pub')).readAcl).toBe('.r:*,.rlistings,someproject:*');
    const r = await readObject(anon, { path });
    r.body?.destroy();
    expect(r.view.size).toBe(5);
    expect((await listContainer(anon, account, 'pub', {})).entries).toHaveLength(1);
    await expect(setContainerPublic(other, account, 'pub', acl, false)).rejects.toMatchObject({ code: 'Forbidden' });
    expect(await setContainerPublic(owner, account, 'pub', acl, false)).toBe('someproject:*');
    await expect(readObject(anon, { path })).rejects.toMatchObject({ code: 'Unauthorized' });
  });
});
