import type { SubgraphDeps } from '../../kit/deps.ts';
import { factsOf, orderSchema, type OrderFacts } from './facts.ts';
import { ingestOrders, tenantOfChannel } from './ingest.ts';
import { ORDERS_PAGE_QUERY } from './subscription.ts';

/*
 * The backfill: a channel's orders as Saleor has them now, paged (100 a page, Saleor's limit)
 * and written into the tenant that owns the channel, each page in its own transaction through
 * the same upsert as the webhooks (so running it again, or alongside webhooks, changes only
 * what is newer). It returns the cursor it reached, and takes one to resume from: a later job
 * system (pg-boss, with the agents work) can run it in steps and pick it up after a crash.
 *
 * How it reaches Saleor: directly, with the App token (SALEOR_APP_TOKEN), at Saleor's GraphQL URL
 * (SALEOR_API_URL, else the stand-in's), the same credential and Saleor the gateway uses. Not
 * through the gateway: the gateway takes only our access tokens, and keeps Saleor's App-only
 * `orders` for platform administrators (gateway/saleor-access.ts), so a job would need an
 * administrator's token, which lives 15 minutes and belongs to a person, not to the system. bi is
 * itself the Saleor App whose webhooks it verifies; it reads with that App's rights.
 */

/** Runs a GraphQL operation against Saleor and returns its `data` (errors throw). */
export type SaleorGraphql = <T>(query: string, variables: Record<string, unknown>) => Promise<T>;

export function httpSaleorClient(url: string, appToken: string, timeoutMs = 10_000): SaleorGraphql {
  return async <T>(query: string, variables: Record<string, unknown>) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${appToken}` },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let result: { data?: T; errors?: { message: string }[] };
    try {
      result = JSON.parse(text) as typeof result;
    } catch {
      throw new Error(`Saleor answered ${response.status} without JSON`);
    }
    if (result.errors?.length || !result.data) throw new Error(`Saleor: ${result.errors?.map((e) => e.message).join('; ') ?? `HTTP ${response.status}`}`);
    return result.data;
  };
}

interface OrdersPage {
  orders: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: unknown }[] } | null;
}

export interface BackfillResult {
  channel: string;
  /** The tenant written to; null when no tenant (or more than one) has the channel: nothing read. */
  tenantId: string | null;
  read: number;
  written: number;
  /** Where it stopped: null once every page is read. */
  cursor: string | null;
}

export interface BackfillOptions {
  /** Resume after this cursor (a BackfillResult's). */
  after?: string | null;
  /** Stop after this many pages (a job's step); default: all. */
  maxPages?: number;
  pageSize?: number;
}

type Deps = Pick<SubgraphDeps, 'db' | 'redis' | 'config' | 'log'>;

export async function backfillSaleorOrders(deps: Deps, channel: string, saleor: SaleorGraphql, options: BackfillOptions = {}): Promise<BackfillResult> {
  const tenantId = await tenantOfChannel(deps, channel);
  const result: BackfillResult = { channel, tenantId, read: 0, written: 0, cursor: options.after ?? null };
  if (!tenantId) {
    deps.log.warn({ channel }, 'saleor backfill skipped: no tenant (or more than one) has this channel');
    return result;
  }
  const pageSize = Math.min(100, Math.max(1, options.pageSize ?? 100));
  for (let pages = 0; pages < (options.maxPages ?? Number.POSITIVE_INFINITY); pages++) {
    const { orders } = await saleor<OrdersPage>(ORDERS_PAGE_QUERY, { channel, first: pageSize, after: result.cursor });
    if (!orders) throw new Error('Saleor returned no orders connection');
    const facts: OrderFacts[] = [];
    for (const { node } of orders.edges) {
      const order = orderSchema.safeParse(node);
      if (!order.success) {
        deps.log.warn({ channel, issue: order.error.issues[0]?.message }, 'saleor backfill: order skipped, not in the expected shape');
        continue;
      }
      // `orders(channel:)` is Saleor's filter; the tenant is the channel's, so check it anyway.
      if (order.data.channel.slug === channel) facts.push(factsOf(order.data));
    }
    result.read += orders.edges.length;
    result.written += await ingestOrders(deps, tenantId, facts);
    result.cursor = orders.pageInfo.hasNextPage ? orders.pageInfo.endCursor : null;
    if (!result.cursor) break;
  }
  deps.log.info(result, 'saleor backfill');
  return result;
}
