/**
 * Saleor's order facts in bi: the webhooks (route.ts: POST /webhooks/saleor, verified as Saleor
 * signs them), the backfill (backfill.ts) and the demo seed (seed.ts). subscription.ts holds the
 * GraphQL bi asks Saleor for.
 */
export { registerSaleorWebhookRoute } from './route.ts';
export { backfillSaleorOrders, httpSaleorClient, type BackfillResult, type SaleorGraphql } from './backfill.ts';
export { seedOrderFacts } from './seed.ts';
export { ORDER_EVENTS_SUBSCRIPTION, ORDERS_PAGE_QUERY } from './subscription.ts';
