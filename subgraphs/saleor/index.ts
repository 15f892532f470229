import { defineSubgraph } from '../kit/server.ts';
import { createLoaders } from './loaders.ts';
import { permissions } from './permissions.ts';
import { resolvers } from './resolvers.ts';

/**
 * The Saleor-compatible stand-in: Saleor's names, IDs, entity keys and access rules over an
 * in-memory demo catalog (no tables, so no migrations and no seed). With SALEOR_API_URL set the
 * gateway talks to a real Saleor instead and this subgraph is not started.
 */
export const saleor = defineSubgraph({
  name: 'saleor',
  port: 8000,
  resolvers,
  permissions,
  createLoaders: () => createLoaders(),
  responseCache: true,
});

export default saleor;
