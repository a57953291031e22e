import { Readable } from 'node:stream';
import type { AuthContext } from '@stratus/core/identity/index';
import { adminContext, projectWithMember, setupIdentityTest } from '@stratus/core/identity/test-support';
import { putObject, readObject, setObjectBackend } from '@stratus/core/objectstore/swift/index';
import { startTestObjectCluster, type TestObjectCluster } from '@stratus/core/objectstore/test-support';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb } from '../../../../../../test/helpers.ts';
import { createCallerFactory } from '../../trpc/init';
import { objectStoreRouter } from './index';

/*
 * The Object Store router as the dashboard calls it, over the real replicated backend
 * (three object servers on temp folders) and PostgreSQL: containers, paging, pseudo-
 * folders, public switch, metadata (UTF-8 as swift clients send it), deletes, and
 * isolation (every call is on the session's own account; readers cannot write).
 */
let cluster: TestObjectCluster;
let a: AuthContext;
let b: AuthContext;
let reader: AuthContext;
const caller = (auth: AuthContext) => createCallerFactory(objectStoreRouter)({ auth });

async function codeOf(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  if (!(e instanceof TRPCError)) throw new Error(`expected a TRPCError, got ${String(e)}`);
  return e.code;
}

async function put(auth: AuthContext, container: string, object: string, body: string) {
  await putObject(
    { kind: 'token', ctx: auth },
    {
      path: { account: `AUTH_${auth.projectId}`, container, object },
      body: Readable.from([Buffer.from(body)]),
      contentLength: Buffer.byteLength(body),
      userMeta: {},
      headers: {},
    },
  );
}

beforeAll(async () => {
  await setupIdentityTest(testDb().url);
  const admin = await adminContext();
  const pa = await projectWithMember(admin);
  a = pa.auth.context;
  b = (await projectWithMember(admin)).auth.context;
  const { assignRole, authenticate } = await import('@stratus/core/identity/index');
  const r = await projectWithMember(admin, 'reader');
  const readerRole = await testDb().db.role.findUniqueOrThrow({ where: { name: 'reader' } });
  await assignRole(admin, { roleId: readerRole.id, userId: r.user.id, projectId: pa.project.id });
  reader = (
    await authenticate({
      method: 'password',
      userName: r.user.name,
      password: r.password,
      scope: { projectId: pa.project.id },
    })
  ).context;
  cluster = await startTestObjectCluster();
  setObjectBackend(cluster.backend);
});

afterAll(async () => {
  setObjectBackend(undefined);
  await cluster?.close();
});

describe('object store router', () => {
  it('creates, pages, opens and deletes containers; a non-empty one is refused until emptied', async () => {
    const m = caller(a);
    for (const n of ['c1', 'c2', 'c3']) expect(await m.containers.create({ name: n })).toEqual({ created: true });
    expect(await m.containers.create({ name: 'c1' })).toEqual({ created: false });
    expect(await codeOf(m.containers.create({ name: 'a/b' }))).toBe('BAD_REQUEST');
    const p1 = await m.containers.list({ limit: 2 });
    expect(p1.items.map((c) => c.name)).toEqual(['c1', 'c2']);
    expect(p1.next).toBe('c2');
    const p2 = await m.containers.list({ limit: 2, marker: p1.next ?? undefined });
    expect(p2).toMatchObject({ items: [{ name: 'c3' }], next: null });
    expect((await m.containers.list({ prefix: 'c2' })).items.map((c) => c.name)).toEqual(['c2']);

    await put(a, 'c1', 'x.txt', 'hello');
    const acct = await m.account.get();
    expect(acct).toMatchObject({ account: `AUTH_${a.projectId}`, objectCount: 1, bytesUsed: 5, canWrite: true });
    expect(acct.path).toBe(`/object-store/v1/AUTH_${a.projectId}`);
    expect(await codeOf(m.containers.delete({ container: 'c1' }))).toBe('CONFLICT');
    expect(await m.objects.deleteUnder({ container: 'c1', prefix: '', max: 100 })).toMatchObject({
      deleted: 1,
      more: false,
    });
    await m.containers.delete({ container: 'c1' });
    expect(await codeOf(m.containers.get({ container: 'c1' }))).toBe('NOT_FOUND');
  });

  it('lists one folder level with folders, pages by marker, and makes folders', async () => {
    const m = caller(a);
    await m.containers.create({ name: 'tree' });
    for (const o of ['a.txt', 'b.txt', 'docs/one', 'docs/two', 'docs/sub/three', 'z.txt']) await put(a, 'tree', o, o);
    expect(await m.objects.createFolder({ container: 'tree', path: 'empty' })).toEqual({ name: 'empty/' });
    const top = await m.objects.list({ container: 'tree', delimiter: '/' });
    expect(top.items.map((i) => `${i.kind}:${i.name}`)).toEqual([
      'object:a.txt',
      'object:b.txt',
      'folder:docs/',
      'folder:empty/',
      'object:z.txt',
    ]);
    const page1 = await m.objects.list({ container: 'tree', delimiter: '/', limit: 3 });
    expect(page1.next).toBe('docs/');
    const page2 = await m.objects.list({ container: 'tree', delimiter: '/', limit: 3, marker: 'docs/' });
    expect(page2.items.map((i) => i.name)).toEqual(['empty/', 'z.txt']);
    expect(page2.next).toBeNull();
    const docs = await m.objects.list({ container: 'tree', prefix: 'docs/', delimiter: '/' });
    expect(docs.items.map((i) => i.name)).toEqual(['docs/one', 'docs/sub/', 'docs/two']);
    // Filter = prefix within the folder.
    expect((await m.objects.list({ container: 'tree', prefix: 'docs/t' })).items.map((i) => i.name)).toEqual([
      'docs/two',
    ]);
    expect(await m.objects.deleteUnder({ container: 'tree', prefix: 'docs/', max: 2 })).toMatchObject({
      deleted: 2,
      more: true,
    });
    expect(await m.objects.deleteUnder({ container: 'tree', prefix: 'docs/', max: 2 })).toMatchObject({
      deleted: 1,
      more: false,
    });
    await m.objects.delete({ container: 'tree', object: 'a.txt' });
    expect(await codeOf(m.objects.delete({ container: 'tree', object: 'a.txt' }))).toBe('NOT_FOUND');
    expect((await m.objects.list({ container: 'tree' })).items.map((i) => i.name)).toEqual([
      'b.txt',
      'empty/',
      'z.txt',
    ]);
  });

  it('switches public read and gives the public URL', async () => {
    const m = caller(a);
    await m.containers.create({ name: 'site' });
    expect(await m.containers.get({ container: 'site' })).toMatchObject({ public: false, publicUrl: null });
    expect(await m.containers.setPublic({ container: 'site', public: true })).toEqual({
      readAcl: '.r:*,.rlistings',
      public: true,
    });
    const c = await m.containers.get({ container: 'site' });
    expect(c.public).toBe(true);
    expect(c.publicUrl).toMatch(new RegExp(`/object-store/v1/AUTH_${a.projectId}/site$`));
    await m.containers.setPublic({ container: 'site', public: false });
    expect(await m.containers.get({ container: 'site' })).toMatchObject({ public: false, readAcl: null });
    await m.containers.create({ name: 'born public', public: true });
    expect((await m.containers.get({ container: 'born public' })).publicUrl).toMatch(/\/born%20public$/);
  });

  it('edits container and object metadata; values are stored as swift clients send them', async () => {
    const m = caller(a);
    await m.containers.create({ name: 'meta' });
    await m.containers.updateMeta({ container: 'meta', set: { Color: 'blue', Note: 'Zoë' } });
    expect((await m.containers.get({ container: 'meta' })).meta).toEqual({ color: 'blue', note: 'Zoë' });
    await m.containers.updateMeta({ container: 'meta', set: {}, remove: ['color'] });
    expect((await m.containers.get({ container: 'meta' })).meta).toEqual({ note: 'Zoë' });

    await put(a, 'meta', 'doc.txt', 'text');
    await m.objects.updateMeta({ container: 'meta', object: 'doc.txt', meta: { Owner: 'Zoë', dept: 'R&D' } });
    const o = await m.objects.get({ container: 'meta', object: 'doc.txt' });
    expect(o).toMatchObject({ size: 4, contentType: 'text/plain', meta: { owner: 'Zoë', dept: 'R&D' } });
    // What the REST layer sends as a header: the UTF-8 bytes.
    const raw = await readObject(
      { kind: 'token', ctx: a },
      { path: { account: `AUTH_${a.projectId}`, container: 'meta', object: 'doc.txt' }, head: true },
    );
    expect(Buffer.from(raw.view.userMeta.owner ?? '', 'latin1').toString('utf8')).toBe('Zoë');
    // POST replaces the set.
    await m.objects.updateMeta({ container: 'meta', object: 'doc.txt', meta: {} });
    expect((await m.objects.get({ container: 'meta', object: 'doc.txt' })).meta).toEqual({});
    expect(
      await codeOf(m.objects.updateMeta({ container: 'meta', object: 'doc.txt', meta: { 'bad name': 'x' } })),
    ).toBe('BAD_REQUEST');
    expect(await codeOf(m.objects.updateMeta({ container: 'meta', object: 'doc.txt', meta: { a: 'x\ny' } }))).toBe(
      'BAD_REQUEST',
    );
  });

  it('keeps each project in its own account; readers read but cannot write', async () => {
    await caller(a).containers.create({ name: 'private-a' });
    const other = caller(b);
    expect((await other.containers.list({})).items).toEqual([]);
    // The same name in B's session is B's own (absent) container, never A's.
    expect(await codeOf(other.containers.get({ container: 'private-a' }))).toBe('NOT_FOUND');
    expect(await codeOf(other.objects.list({ container: 'private-a' }))).toBe('NOT_FOUND');

    const r = caller(reader);
    expect((await r.account.get()).canWrite).toBe(false);
    expect((await r.containers.list({ prefix: 'private-a' })).items.map((c) => c.name)).toEqual(['private-a']);
    expect(await codeOf(r.containers.create({ name: 'nope' }))).toBe('FORBIDDEN');
    expect(await codeOf(r.containers.setPublic({ container: 'private-a', public: true }))).toBe('FORBIDDEN');
    expect(await codeOf(r.objects.createFolder({ container: 'private-a', path: 'x' }))).toBe('FORBIDDEN');
    expect(await codeOf(r.containers.delete({ container: 'private-a' }))).toBe('FORBIDDEN');
  });
});
