import { createProject, deleteProject, getProject, listProjects, updateProject } from '@stratus/core/identity/index';
import { CreateProjectInput, ListProjectsInput, UpdateProjectInput } from '@stratus/core/identity/projects';
import { z } from 'zod';
import { protectedProcedure, router } from '../../trpc/init';

const ProjectId = z.object({ projectId: z.string().min(1) });

export const projectsRouter = router({
  list: protectedProcedure.input(ListProjectsInput).query(({ ctx, input }) => listProjects(ctx.auth, input)),
  get: protectedProcedure.input(ProjectId).query(({ ctx, input }) => getProject(ctx.auth, input)),
  create: protectedProcedure.input(CreateProjectInput).mutation(({ ctx, input }) => createProject(ctx.auth, input)),
  update: protectedProcedure.input(UpdateProjectInput).mutation(({ ctx, input }) => updateProject(ctx.auth, input)),
  delete: protectedProcedure.input(ProjectId).mutation(({ ctx, input }) => deleteProject(ctx.auth, input)),
});
