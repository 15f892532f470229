import type { SubgraphDeps } from '../../kit/deps.ts';
import { DEMO_TENANTS } from '../../auth/seed.ts';
import { executeAsApp } from '../../saleor/app-execute.ts';
import { backfillSaleorOrders, httpSaleorClient, type SaleorGraphql } from './backfill.ts';
import { saleorApiUrl } from './settings.ts';

/*
 * Demo order facts: the backfill of each demo tenant's channel. Demo data is written before any
 * server listens (`npm start`, the tests), so with the stand-in (no SALEOR_API_URL) the backfill
 * runs the same query against the stand-in's resolvers in this process (app-execute.ts); with a
 * real Saleor, over HTTP. A Saleor that cannot be read costs the demo its order facts, never
 * the start: webhooks and a later backfill fill them.
 */

const standInClient: SaleorGraphql = async <T>(query: string, variables: Record<string, unknown>) => {
  const result = await executeAsApp<T>(query, variables);
  if (result.errors?.length || !result.data) throw new Error(result.errors?.map((e) => e.message).join('; ') ?? 'no data');
  return result.data;
};

export async function seedOrderFacts(deps: SubgraphDeps): Promise<void> {
  const saleor = deps.config.SALEOR_API_URL
    ? httpSaleorClient(saleorApiUrl(deps.config, deps.env), deps.config.SALEOR_APP_TOKEN)
    : standInClient;
  for (const tenant of DEMO_TENANTS) {
    try {
      await backfillSaleorOrders(deps, tenant.saleorChannel, saleor);
    } catch (error) {
      deps.log.warn({ channel: tenant.saleorChannel, err: error }, 'demo order facts not loaded: Saleor could not be read');
    }
  }
}
