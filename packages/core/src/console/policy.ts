import { registerPolicyDefaults, type PolicyDefault } from '../policy/index.ts';

/** Nova's rule: project members (and admins) open remote consoles of their servers. */
export const CONSOLE_RULES: PolicyDefault[] = [
  {
    name: 'os_compute_api:os-remote-consoles',
    rule: 'rule:admin_or_project_member',
    description: 'Open a remote console (VNC or serial) of a server.',
  },
];
registerPolicyDefaults(CONSOLE_RULES);
