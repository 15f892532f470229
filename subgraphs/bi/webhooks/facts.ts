import { z } from 'zod';

/*
 * An order as bi's fragment of it reads (subscription.ts `BiOrderFacts`), checked before anything
 * is written: what Saleor sends is trusted for its origin (the signature), not for its shape.
 * Saleor's DateTime values (`2026-01-06T09:00:00.123456+00:00`) are handed to PostgreSQL as
 * they are, so their microseconds survive for ordering states by `updatedAt`.
 */

const dateTime = z
  .string()
  .max(40)
  .refine((value) => /^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value)), 'expected an ISO 8601 date and time');
const amount = z.number().finite().gt(-1e12).lt(1e12);
const currency = z.string().regex(/^[A-Z]{3}$/);
const money = z.object({ amount, currency });
const id = z.string().min(1).max(200);

const line = z.object({
  id,
  productName: z.string().max(500),
  variantName: z.string().max(500).nullish(),
  productSku: z.string().max(255).nullish(),
  productVariantId: z.string().max(200).nullish(),
  quantity: z.number().int().min(0).max(1_000_000),
  unitPrice: z.object({ gross: money }),
  totalPrice: z.object({ gross: money }),
  variant: z.object({ id, product: z.object({ id }).nullish() }).nullish(),
});

export const orderSchema = z.object({
  id,
  number: z.string().min(1).max(50),
  created: dateTime,
  updatedAt: dateTime,
  status: z.string().regex(/^[A-Z_]{1,40}$/),
  isPaid: z.boolean(),
  channel: z.object({ slug: z.string().min(1).max(100) }),
  total: z.object({ gross: money, net: money }),
  lines: z.array(line).max(1000),
});

export type SaleorOrder = z.infer<typeof orderSchema>;

/** One row of bi.order_lines, as the store writes it. */
export interface OrderLineFacts {
  line_id: string;
  product_id: string | null;
  product_name: string;
  variant_id: string | null;
  sku: string | null;
  quantity: number;
  unit_price_gross: number;
  total_gross: number;
  currency: string;
}

/** One row of bi.orders and its lines. */
export interface OrderFacts {
  order_id: string;
  number: string;
  channel: string;
  status: string;
  paid: boolean;
  total_gross: number;
  total_net: number;
  currency: string;
  created_at: string;
  updated_at: string;
  lines: OrderLineFacts[];
}

export function factsOf(order: SaleorOrder): OrderFacts {
  return {
    order_id: order.id,
    number: order.number,
    channel: order.channel.slug,
    status: order.status,
    paid: order.isPaid,
    total_gross: order.total.gross.amount,
    total_net: order.total.net.amount,
    currency: order.total.gross.currency,
    created_at: order.created,
    updated_at: order.updatedAt,
    lines: order.lines.map((l) => ({
      line_id: l.id,
      product_id: l.variant?.product?.id ?? null,
      product_name: l.productName,
      variant_id: l.variant?.id ?? l.productVariantId ?? null,
      sku: l.productSku ?? null,
      quantity: l.quantity,
      unit_price_gross: l.unitPrice.gross.amount,
      total_gross: l.totalPrice.gross.amount,
      currency: l.totalPrice.gross.currency,
    })),
  };
}

/** The event part of a webhook body (subscription.ts): the fields of `event`, order included. */
const eventBody = z.object({
  __typename: z.string().max(100).optional(),
  issuedAt: dateTime.nullish(),
  version: z.string().max(50).nullish(),
  order: z.unknown(),
});

export interface WebhookEvent {
  typename: string | null;
  issuedAt: string | null;
  order: SaleorOrder;
}

/**
 * The event in a webhook body: `{ issuedAt, order, ... }` (a subscription on `event`), or
 * `{ data: { orderCreated: { issuedAt, order } } }` (a filterable root field). A reason when the
 * body is not one: a 400, which Saleor does not retry.
 */
export function parseWebhookBody(json: unknown): WebhookEvent | { problem: string } {
  let candidate = json;
  if (candidate && typeof candidate === 'object' && 'data' in candidate && !('order' in candidate)) {
    const data = (candidate as { data: unknown }).data;
    const values = data && typeof data === 'object' ? Object.values(data) : [];
    if (values.length !== 1) return { problem: 'expected one event under `data`' };
    candidate = values[0];
  }
  const event = eventBody.safeParse(candidate);
  if (!event.success) return { problem: 'not an order event payload' };
  if (event.data.order === null || event.data.order === undefined) {
    return { problem: 'the payload has no order (does the App have MANAGE_ORDERS?)' };
  }
  const order = orderSchema.safeParse(event.data.order);
  if (!order.success) {
    const issue = order.error.issues[0]!;
    return { problem: `order.${issue.path.join('.')}: ${issue.message}` };
  }
  return { typename: event.data.__typename ?? null, issuedAt: event.data.issuedAt ?? null, order: order.data };
}
