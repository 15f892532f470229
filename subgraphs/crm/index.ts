import { repoPath } from '../kit/paths.ts';
import { loadSchema } from '../kit/schema.ts';
import { defineSubgraph } from '../kit/server.ts';
import { createLoaders } from './loaders.ts';
import { permissions } from './permissions.ts';
import { resolvers } from './resolvers.ts';
import { seedDemoData } from './seed.ts';

/** Leads, contacts, deals over a per-tenant pipeline, activities and public lead forms (port 8006). */
export default defineSubgraph({
  name: 'crm',
  port: 8006,
  typeDefs: loadSchema('crm'),
  resolvers,
  permissions,
  migrations: { name: 'crm', dir: repoPath('subgraphs/crm/migrations') },
  createLoaders,
  seed: seedDemoData,
});
