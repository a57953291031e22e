// Seeds what a fresh cloud needs (idempotent; `./stratus up` runs it after migrations):
// identity bootstrap — default domain, roles, admin/demo projects and users, RegionOne,
// the service catalog — then prints the credentials and writes clouds.yaml; registers the
// the host-only external network, and the test guest image given with `--test-image PATH`
// as a public image.
import { parseArgs } from 'node:util';
import { bootstrapIdentity, ensureDefaultExternalNetwork, registerTestImage, startRuntime } from '@stratus/core';
import { closePrisma } from '@stratus/db';

/** The seeded guest image's name; tests and docs refer to it. */
const TEST_IMAGE_NAME = 'stratus-test';

const rt = await startRuntime('seed');

const args = parseArgs({ options: { 'test-image': { type: 'string' } } }).values;

try {
  const r = await bootstrapIdentity({ db: rt.db, config: rt.config });
  const out = process.stdout;
  out.write(`identity: auth URL ${r.authUrl}, region RegionOne, catalog seeded\n`);
  out.write(
    `admin: user ${r.admin.user}, project ${r.admin.project}, password ${r.admin.password ?? '(unchanged, unknown)'}\n`,
  );
  out.write(
    `demo:  user ${r.demo.user}, project ${r.demo.project}, password ${r.demo.password ?? '(unchanged, unknown)'}\n`,
  );
  out.write(`credentials: ${r.credentialsFile} (mode 0600)\n`);
  out.write(
    r.cloudsYaml.written
      ? `clouds.yaml: ${r.cloudsYaml.path} (openstack --os-cloud stratus | stratus-admin)\n`
      : `clouds.yaml: not written to ${r.cloudsYaml.path}: ${r.cloudsYaml.reason ?? ''}\n`,
  );
  const ext = await ensureDefaultExternalNetwork();
  out.write(`network: external ${ext.name} (${ext.id}), host-only\n`);
  const testImage = args['test-image'];
  if (testImage) {
    const img = await registerTestImage({ path: testImage, name: TEST_IMAGE_NAME });
    out.write(`image: ${img.name} (${img.id}), public, ${img.size ?? 0} bytes\n`);
  }
} finally {
  await closePrisma();
}
