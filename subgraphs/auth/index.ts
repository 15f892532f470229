import { defineSubgraph } from '../kit/server.ts';
import { createLoaders } from './loaders.ts';
import { permissions } from './permissions.ts';
import { resolvers } from './resolvers.ts';
import { seedDemoData } from './seed.ts';
import { authSettings } from './settings.ts';
import { signingKey } from './signing-keys.ts';

/** Accounts, tenants, memberships and tokens; also serves the JWKS. */
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
  },
  seed: seedDemoData,
});
