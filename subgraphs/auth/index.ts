import { defineSubgraph } from '../kit/server.ts';
import { registerDelegationRoute } from './delegation.ts';
import { createLoaders } from './loaders.ts';
import { permissions } from './permissions.ts';
import { resolvers } from './resolvers.ts';
import { seedDemoData } from './seed.ts';
import { authSettings } from './settings.ts';
import { signingKey } from './signing-keys.ts';

/** Accounts, tenants, memberships and tokens; also serves the JWKS and delegated tokens for agent runs. */
export default defineSubgraph({
  name: 'auth',
  port: 8007,
  resolvers,
  permissions,
  settings: authSettings,
  createLoaders,
  async routes(app, deps) {
    const key = await signingKey(deps); // a bad key stops the start, not the first login
    app.get('/.well-known/jwks.json', async (_request, reply) =>
      reply.header('cache-control', 'public, max-age=300').send(key.jwks),
    );
    // Short-lived tokens for the agents subgraph's runs (internal: the gateway never routes it).
    await registerDelegationRoute(app, deps);
  },
  seed: seedDemoData,
});
