import { defineSubgraph } from '../kit/server.ts';
import { createLoaders } from './loaders.ts';
import { permissions } from './permissions.ts';
import { resolvers } from './resolvers.ts';
import { seedDemoDashboards } from './seed.ts';
import { biSettings } from './settings.ts';
import { registerSaleorWebhookRoute } from './webhooks/index.ts';
import { startBiBackground } from './background.ts';

/**
 * Business intelligence, replacing Apache Superset: datasets over the facts other subgraphs
 * publish (crm, cms) and Saleor's order facts, charts computed live from them, and dashboards.
 */
export default defineSubgraph({
  name: 'bi',
  port: 8088,
  resolvers,
  permissions,
  // Its tables reference auth.memberships; its charts read the fact views of crm's and cms's
  // migrations, and its demo dashboards chart their demo data: all of them come first.
  dependsOn: ['auth', 'crm', 'cms'],
  settings: biSettings,
  createLoaders,
  seed: seedDemoDashboards,
  // POST /webhooks/saleor: Saleor's order webhooks (webhooks/route.ts).
  routes: registerSaleorWebhookRoute,
  // The durable Saleor backfills and the webhook deliveries' retention (background.ts).
  background: startBiBackground,
  // No whole-response cache: it is keyed by bi's own cache generation, which a write in crm or
  // cms does not bump, so chart data would stay stale after one. The engine caches chart data,
  // keyed by the generations of the subgraph owning each dataset.
  responseCache: false,
});
