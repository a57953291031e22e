/*
 * The files the OpenStack CLI reads, for one user and project, without the password:
 * like Horizon, the user types it (the RC file asks for it; clouds.yaml leaves it out).
 */
export interface CliProfile {
  authUrl: string;
  region: string;
  userName: string;
  userDomainId: string;
  projectId: string | null;
  projectName: string | null;
}

const q = (s: string) => JSON.stringify(s);
/** A value safe inside double quotes in sh. */
const sh = (s: string) => `"${s.replace(/["\\$`]/g, '\\$&')}"`;

export function cloudsYaml(p: CliProfile): string {
  const lines = [
    '# clouds.yaml for the OpenStack CLI, from the Stratus dashboard.',
    '# Save it as ~/.config/openstack/clouds.yaml (or ./clouds.yaml) and run:',
    '#   openstack --os-cloud stratus token issue',
    '# The password is not included: add `password:` under auth, or put it in secure.yaml.',
    'clouds:',
    '  stratus:',
    '    auth:',
    `      auth_url: ${q(p.authUrl)}`,
    `      username: ${q(p.userName)}`,
    `      user_domain_id: ${q(p.userDomainId)}`,
  ];
  if (p.projectId) lines.push(`      project_id: ${q(p.projectId)}`);
  if (p.projectName) lines.push(`      project_name: ${q(p.projectName)}`);
  lines.push(`    region_name: ${q(p.region)}`, '    interface: "public"', '    identity_api_version: 3');
  return `${lines.join('\n')}\n`;
}

export function openrc(p: CliProfile): string {
  const lines = [
    '#!/usr/bin/env bash',
    '# OpenStack RC file from the Stratus dashboard. Use it with: source ./openrc.sh',
    `export OS_AUTH_URL=${sh(p.authUrl)}`,
    'export OS_IDENTITY_API_VERSION=3',
    'export OS_AUTH_TYPE=password',
    'unset OS_TENANT_ID OS_TENANT_NAME OS_TOKEN OS_CLOUD',
  ];
  if (p.projectId) lines.push(`export OS_PROJECT_ID=${sh(p.projectId)}`);
  if (p.projectName) lines.push(`export OS_PROJECT_NAME=${sh(p.projectName)}`);
  lines.push(
    `export OS_USERNAME=${sh(p.userName)}`,
    `export OS_USER_DOMAIN_ID=${sh(p.userDomainId)}`,
    'echo "Please enter your OpenStack password for project $OS_PROJECT_NAME as user $OS_USERNAME: "',
    'read -sr OS_PASSWORD_INPUT',
    'export OS_PASSWORD=$OS_PASSWORD_INPUT',
    'unset OS_PASSWORD_INPUT',
    `export OS_REGION_NAME=${sh(p.region)}`,
    'export OS_INTERFACE=public',
  );
  return `${lines.join('\n')}\n`;
}
