import { randomUUID } from 'node:crypto';
import type { SubgraphDeps } from '../kit/deps.ts';
import type { OrderEvent } from '../bi/webhooks/subscription.ts';
import { channels, products, users, variantPrice, variants, type OrderLineRecord, type OrderRecord } from './catalog.ts';
import { fromGlobalId } from './ids.ts';
import { addOrder, orderByPk, updateOrder } from './order-book.ts';
import type { SaleorSettings } from './settings.ts';
import { emitOrderEvents } from './webhooks/index.ts';

/*
 * Saleor's order mutations as the stand-in implements them: the draft flow an App uses to place
 * an order (draftOrderCreate, then draftOrderComplete), orderMarkAsPaid and orderCancel. Bad input
 * is Saleor's `errors: [OrderError!]!` (field, message, code) next to a null `order`; a malformed
 * ID is a GraphQL error ("Invalid ID: ..."), as in Saleor. Each change sends the async events
 * Saleor sends for it (saleor/order/actions.py): completing a draft ORDER_CREATED; marking as paid
 * ORDER_FULLY_PAID and ORDER_UPDATED; cancelling ORDER_CANCELLED and ORDER_UPDATED. (Draft events,
 * DRAFT_ORDER_CREATED and the like, are not sent: no webhook of ours subscribes to them.)
 */

type Deps = SubgraphDeps<SaleorSettings>;

export type OrderErrorCode =
  | 'CANNOT_CANCEL_ORDER'
  | 'INVALID'
  | 'NOT_FOUND'
  | 'REQUIRED'
  | 'ZERO_QUANTITY'
  | 'INVALID_QUANTITY'
  | 'NOT_AVAILABLE_IN_CHANNEL'
  | 'NOT_EDITABLE'
  | 'PAYMENT_ERROR';

export interface OrderError {
  field: string | null;
  message: string;
  code: OrderErrorCode;
  variants?: string[] | null;
}

export interface OrderPayload {
  order: OrderRecord | null;
  errors: OrderError[];
}

const fail = (field: string | null, message: string, code: OrderErrorCode, extra: Partial<OrderError> = {}): OrderPayload => ({
  order: null,
  errors: [{ field, message, code, ...extra }],
});

/** Saleor's limit on a draft's lines in one input, and on one line's quantity. */
const MAX_LINES = 100;
const MAX_QUANTITY = 10_000;

const variantIndex = new Map(variants.map((v) => [String(v.pk), v]));
const productIndex = new Map(products.map((p) => [p.pk, p]));

export interface DraftOrderCreateInput {
  userEmail?: string | null;
  channelId?: string | null;
  lines?: readonly { quantity: number; variantId: string }[] | null;
}

export function draftOrderCreate(input: DraftOrderCreateInput, now = new Date()): OrderPayload {
  if (!input.channelId) return fail('channelId', 'Channel needs to be specified.', 'REQUIRED');
  const channelPk = Number(fromGlobalId(input.channelId, 'Channel', 'channelId'));
  const channel = channels.find((c) => c.pk === channelPk);
  if (!channel) return fail('channelId', `Couldn't resolve id: ${input.channelId}.`, 'NOT_FOUND');
  const lines = input.lines ?? [];
  if (lines.length > MAX_LINES) return fail('lines', `At most ${MAX_LINES} lines per input.`, 'INVALID');
  const records: OrderLineRecord[] = [];
  for (const line of lines) {
    if (line.quantity < 1) return fail('quantity', 'Ensure this value is greater than or equal to 1.', 'ZERO_QUANTITY');
    if (line.quantity > MAX_QUANTITY) return fail('quantity', `Ensure this value is at most ${MAX_QUANTITY}.`, 'INVALID_QUANTITY');
    const variant = variantIndex.get(fromGlobalId(line.variantId, 'ProductVariant', 'variantId'));
    const product = variant && productIndex.get(variant.productPk);
    const price = variant && product ? variantPrice(variant, product, channel.slug) : null;
    if (!variant || !product) return fail('lines', `Couldn't resolve id: ${line.variantId}.`, 'NOT_FOUND', { variants: [line.variantId] });
    if (!price) {
      return fail('lines', 'Cannot add lines with unavailable variants.', 'NOT_AVAILABLE_IN_CHANNEL', { variants: [line.variantId] });
    }
    records.push({
      pk: randomUUID(),
      variantPk: variant.pk,
      productName: product.name,
      variantName: variant.name,
      productSku: variant.sku,
      quantity: line.quantity,
      unitGrossCents: price.price,
      taxRate: channel.taxRate,
    });
  }
  const email = input.userEmail?.trim().toLowerCase() ?? '';
  const user = email ? users.find((u) => u.email === email) : undefined;
  const order = addOrder({
    created: now.toISOString(),
    updatedAt: now.toISOString(),
    status: 'DRAFT',
    userPk: user?.pk ?? null,
    userEmail: email,
    channel: channel.slug,
    currency: channel.currencyCode,
    taxRate: channel.taxRate,
    shippingCents: channel.shippingCents,
    isPaid: false,
    lines: records,
  });
  return { order, errors: [] };
}

/** The order an `id` names, or the payload's NOT_FOUND error. */
function find(id: string): OrderRecord | OrderPayload {
  const order = orderByPk(fromGlobalId(id, 'Order'));
  return order ?? fail('id', `Couldn't resolve to a node: ${id}`, 'NOT_FOUND');
}

const isPayload = (x: OrderRecord | OrderPayload): x is OrderPayload => 'errors' in x;

export function draftOrderComplete(id: string, now = new Date()): OrderPayload {
  const order = find(id);
  if (isPayload(order)) return order;
  if (order.status !== 'DRAFT') return fail('id', 'The order is not draft.', 'INVALID');
  if (!order.lines.length) return fail('lines', 'Could not create order without any products.', 'REQUIRED');
  updateOrder(order, { status: 'UNFULFILLED' }, now);
  return { order, errors: [] };
}

export function orderMarkAsPaid(id: string, now = new Date()): OrderPayload {
  const order = find(id);
  if (isPayload(order)) return order;
  if (order.status === 'DRAFT') return fail('id', 'Draft orders cannot be marked as paid.', 'NOT_EDITABLE');
  if (order.status === 'CANCELED') return fail('id', 'Cancelled orders cannot be marked as paid.', 'INVALID');
  if (order.isPaid) return fail('payment', 'Orders with payments can not be manually marked as paid.', 'PAYMENT_ERROR');
  updateOrder(order, { isPaid: true }, now);
  return { order, errors: [] };
}

export function orderCancel(id: string, now = new Date()): OrderPayload {
  const order = find(id);
  if (isPayload(order)) return order;
  if (order.status !== 'UNFULFILLED' && order.status !== 'UNCONFIRMED') {
    return fail('order', "This order can't be canceled.", 'CANNOT_CANCEL_ORDER');
  }
  updateOrder(order, { status: 'CANCELED' }, now);
  return { order, errors: [] };
}

/** Runs a mutation and, when it changed an order, sends the events Saleor sends for it. */
export async function withEvents(deps: Deps, payload: OrderPayload, events: readonly OrderEvent[]): Promise<OrderPayload> {
  if (payload.order && events.length) await emitOrderEvents(deps, payload.order, events);
  return payload;
}
