import { router } from '../../trpc/init';
import { assignmentsRouter } from './assignments';
import { domainsRouter } from './domains';
import { groupsRouter } from './groups';
import { projectsRouter } from './projects';
import { rolesRouter } from './roles';
import { sessionRouter } from './session';
import { usersRouter } from './users';

export const identityRouter = router({
  session: sessionRouter,
  domains: domainsRouter,
  projects: projectsRouter,
  users: usersRouter,
  groups: groupsRouter,
  roles: rolesRouter,
  assignments: assignmentsRouter,
});
