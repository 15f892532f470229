import { defineSubgraph } from '../kit/server.ts';
import { createLoaders } from './loaders.ts';
import { permissions } from './permissions.ts';
import { resolvers } from './resolvers.ts';
import { seedDemoData } from './seed.ts';

/** Leads, contacts, deals over a per-tenant pipeline, activities and public lead forms. */
export default defineSubgraph({
  name: 'crm',
  port: 8006,
  resolvers,
  permissions,
  dependsOn: ['auth'],
  createLoaders,
  seed: seedDemoData,
});
