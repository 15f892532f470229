/*
 * What bi asks of Saleor, as one GraphQL fragment of an Order used twice:
 *
 * - ORDER_EVENTS_SUBSCRIPTION is the subscription query of the webhook bi's Saleor App registers
 *   (`webhookCreate(input: { targetUrl: "<gateway>/webhooks/saleor", asyncEvents: [ORDER_CREATED,
 *   ORDER_UPDATED, ORDER_FULLY_PAID, ORDER_CANCELLED], query: ORDER_EVENTS_SUBSCRIPTION })`, the
 *   App needing MANAGE_ORDERS). Its root field is `event`, so Saleor sends the selection under
 *   `event` as the body itself (saleor/webhook `_process_payload_instance`): `{ "__typename":
 *   "OrderCreated", "issuedAt": "...", "version": "3.23.x", "order": { ... } }`. (A filterable
 *   root such as `orderCreated(channels: [...])` would come as `{ "data": { "orderCreated": ... } }`;
 *   the receiver accepts that shape too.)
 * - ORDERS_PAGE_QUERY pages a channel's orders for the backfill (the same fragment, so a
 *   backfilled order and a webhook's are read the same way).
 *
 * The stand-in sends exactly what this subscription produces (subgraphs/saleor/webhooks/), and
 * test/bi-webhooks.test.ts checks both documents against Saleor 3.23's schema.
 */

/** The facts bi keeps of an order (bi.orders, bi.order_lines). */
export const ORDER_FACTS_FRAGMENT = /* GraphQL */ `
fragment BiOrderFacts on Order {
  id
  number
  created
  updatedAt
  status
  isPaid
  channel { slug }
  total { gross { amount currency } net { amount currency } }
  lines {
    id
    productName
    variantName
    productSku
    productVariantId
    quantity
    unitPrice { gross { amount currency } }
    totalPrice { gross { amount currency } }
    variant { id product { id } }
  }
}`;

/** The async events bi subscribes to; a webhook of any other is refused (400). */
export const ORDER_EVENTS = ['ORDER_CREATED', 'ORDER_UPDATED', 'ORDER_FULLY_PAID', 'ORDER_CANCELLED'] as const;
export type OrderEvent = (typeof ORDER_EVENTS)[number];

/** Saleor's event type name (`Saleor-Event: order_created`) -> its subscription type (`OrderCreated`). */
export const EVENT_TYPES: Readonly<Record<OrderEvent, string>> = {
  ORDER_CREATED: 'OrderCreated',
  ORDER_UPDATED: 'OrderUpdated',
  ORDER_FULLY_PAID: 'OrderFullyPaid',
  ORDER_CANCELLED: 'OrderCancelled',
};

export const ORDER_EVENTS_SUBSCRIPTION = /* GraphQL */ `
subscription BiOrderEvents {
  event {
    __typename
    issuedAt
    version
    ${Object.values(EVENT_TYPES)
      .map((type) => `... on ${type} { order { ...BiOrderFacts } }`)
      .join('\n    ')}
  }
}
${ORDER_FACTS_FRAGMENT}`;

/** One page of a channel's orders, oldest number first (stable while new orders arrive). */
export const ORDERS_PAGE_QUERY = /* GraphQL */ `
query BiOrdersPage($channel: String!, $first: Int!, $after: String) {
  orders(channel: $channel, first: $first, after: $after, sortBy: { field: NUMBER, direction: ASC }) {
    pageInfo { hasNextPage endCursor }
    edges { node { ...BiOrderFacts } }
  }
}
${ORDER_FACTS_FRAGMENT}`;
