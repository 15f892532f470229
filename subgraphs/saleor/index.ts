import { defineSubgraph } from '../kit/server.ts';
import { createLoaders } from './loaders.ts';
import { permissions } from './permissions.ts';
import { resolvers } from './resolvers.ts';
import { saleorSettings } from './settings.ts';
import { registerWebhookRoutes, webhookBackground } from './webhooks/index.ts';

/**
 * The Saleor-compatible stand-in: Saleor's names, IDs, entity keys and access rules over an
 * in-memory demo catalog (no tables, so no migrations and no seed). Its order mutations send
 * Saleor's order webhooks, signed with a key whose JWKS it serves (webhooks/). With SALEOR_API_URL set the
 * gateway talks to a real Saleor instead and this subgraph is not started.
 */
export const saleor = defineSubgraph({
  name: 'saleor',
  port: 8000,
  resolvers,
  permissions,
  createLoaders: () => createLoaders(),
  settings: saleorSettings,
  routes: registerWebhookRoutes,
  background: webhookBackground,
  responseCache: true,
});

export default saleor;
