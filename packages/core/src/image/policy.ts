import type { AuthContext } from '../identity/types.ts';
import { can, registerPolicyDefaults, type PolicyDefault } from '../policy/index.ts';

/*
 * Glance's policy names with defaults in the spirit of Glance's (Zed, secure RBAC):
 * readers read, members of the owning project change, admins do everything. Which
 * images a caller may *see* (visibility, membership) is decided in code (visibility.ts):
 * policy answers "may this role do this to an image of that owner".
 * Target keys: owner (the image's project), member_id (for membership changes),
 * visibility.
 */
const ADMIN = 'rule:admin_required';
const READER = 'rule:admin_required or role:reader';
const OWNER_MEMBER = 'rule:admin_required or (role:member and project_id:%(owner)s)';
const OWNER_READER = 'rule:admin_required or (role:reader and project_id:%(owner)s)';

const p = (name: string, rule: string, description: string): PolicyDefault => ({ name: `image:${name}`, rule, description });

export const IMAGE_RULES: PolicyDefault[] = [
  { name: 'context_is_admin', rule: 'role:admin', description: 'Sees and acts on every project’s resources.' },
  p('get_images', READER, 'List images (each as its visibility allows).'),
  p('get_image', READER, 'Show an image the caller can see.'),
  p('add_image', OWNER_MEMBER, 'Create an image owned by the caller’s project.'),
  p('modify_image', OWNER_MEMBER, 'Update an image, its tags and properties.'),
  p('delete_image', OWNER_MEMBER, 'Delete an image.'),
  p('upload_image', OWNER_MEMBER, 'Upload image data.'),
  p('download_image', READER, 'Download the data of an image the caller can see.'),
  p('publicize_image', ADMIN, 'Make an image public.'),
  p('communitize_image', OWNER_MEMBER, 'Make an image community.'),
  p('deactivate', ADMIN, 'Deactivate an image.'),
  p('reactivate', ADMIN, 'Reactivate an image.'),
  p('set_owner', ADMIN, 'Create an image for, or give an image to, another project.'),
  p('get_members', READER, 'List the members of an image (the owner sees all, a member itself).'),
  p('get_member', READER, 'Show a member of an image.'),
  p('add_member', OWNER_MEMBER, 'Share an image with a project.'),
  p('delete_member', OWNER_MEMBER, 'Stop sharing an image with a project.'),
  p('modify_member', 'rule:admin_required or (role:member and project_id:%(member_id)s)', 'Accept or reject an image shared with the caller’s project.'),
  p('get_quota', OWNER_READER, 'Show a project’s image quota and usage.'),
  p('set_quota', ADMIN, 'Set a project’s image quota.'),
];

registerPolicyDefaults(IMAGE_RULES);

export function isImageAdmin(ctx: AuthContext): boolean {
  return can(ctx, 'context_is_admin');
}
