import { defineSubgraph } from '../kit/server.ts';
import { createLoaders } from './loaders.ts';
import { registerMediaRoutes } from './media.ts';
import { permissions } from './permissions.ts';
import { resolvers } from './resolvers.ts';
import { startScheduler } from './scheduler.ts';
import { cmsSettings } from './settings.ts';
import { seedDemoContent } from './seed.ts';

/**
 * Content management, replacing Wagtail: a page tree per tenant with revisions,
 * publishing and scheduling, snippets and a media library. Also serves `POST /media` (uploads)
 * and `GET /media/<tenant>/<asset>/<file>` (the bytes), and runs the scheduled-publishing loop.
 */
export default defineSubgraph({
  name: 'cms',
  port: 8002,
  resolvers,
  permissions,
  dependsOn: ['auth'],
  settings: cmsSettings,
  createLoaders,
  routes: registerMediaRoutes,
  seed: seedDemoContent,
  background: startScheduler,
});
