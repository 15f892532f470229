import { createHash } from 'node:crypto';
import { CacheGenerations } from '../../kit/cache.ts';
import type { SubgraphDeps } from '../../kit/deps.ts';
import { factsOf, type OrderFacts, type WebhookEvent } from './facts.ts';
import * as store from './store.ts';
import type { OrderEvent } from './subscription.ts';

/*
 * Order facts into the tenant that owns the order's channel: from a webhook (idempotent per
 * order, event and Saleor's event key) or from the backfill (an order as Saleor has it now).
 * After a write the tenant's bi cache generation moves, so charts over orders are fresh.
 */

export type Ingested =
  // applied: written; not-newer: the stored state is as new or newer (a late or repeated state);
  // duplicate: this very event was received before.
  | { outcome: 'applied' | 'not-newer' | 'duplicate'; tenantId: string }
  | { outcome: 'unknown-channel'; tenantId: null };

type Deps = Pick<SubgraphDeps, 'db' | 'redis' | 'config'>;

const generationsOf = (deps: Deps) => new CacheGenerations(deps.redis, deps.config.REDIS_PREFIX, 'bi');

/** The tenant whose Saleor channel this is; null when no tenant (or more than one) names it. */
export const tenantOfChannel = (deps: Deps, channel: string) =>
  deps.db.withTenant({ tenantId: null, accountId: null }, (tx) => store.tenantOfChannel(tx, channel), { statements: 1 });

/** A webhook's event (its signature checked): written unless seen before or not newer than what is stored. */
export async function ingestWebhook(deps: Deps, event: OrderEvent, received: WebhookEvent, body: Buffer): Promise<Ingested> {
  const facts = factsOf(received.order);
  const tenantId = await tenantOfChannel(deps, facts.channel);
  if (!tenantId) return { outcome: 'unknown-channel', tenantId: null };
  const key: store.EventKey = {
    orderId: facts.order_id,
    event,
    // Saleor's event time identifies the event (one request's events share it; the event type
    // tells them apart); a subscription without `issuedAt` falls back to the body's digest.
    eventKey: received.issuedAt ?? `sha256:${createHash('sha256').update(body).digest('base64url')}`,
    issuedAt: received.issuedAt,
    orderUpdatedAt: facts.updated_at,
  };
  const outcome = await deps.db.withTenant({ tenantId, accountId: null }, async (tx) => {
    if (!(await store.recordEvent(tx, key))) return 'duplicate' as const;
    if (await store.upsertOrder(tx, facts)) return 'applied' as const;
    await store.markNotApplied(tx, key);
    return 'not-newer' as const;
  });
  if (outcome === 'applied') await generationsOf(deps).bump(tenantId);
  return { outcome, tenantId };
}

/** Orders of one tenant as Saleor has them now (the backfill): how many were written. */
export async function ingestOrders(deps: Deps, tenantId: string, orders: readonly OrderFacts[]): Promise<number> {
  if (!orders.length) return 0;
  const written = await deps.db.withTenant({ tenantId, accountId: null }, async (tx) => {
    let count = 0;
    for (const facts of orders) if (await store.upsertOrder(tx, facts)) count++;
    return count;
  });
  if (written) await generationsOf(deps).bump(tenantId);
  return written;
}
