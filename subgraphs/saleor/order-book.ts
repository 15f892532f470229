import { randomUUID } from 'node:crypto';
import { orders as demoOrders, type OrderRecord } from './catalog.ts';

/*
 * The stand-in's orders: the demo catalog's, plus those its order mutations create, changed in
 * place by them (what Saleor's order table is to Saleor). Kept in memory for the life of the
 * process, like the rest of the stand-in: a restart starts again from the demo orders.
 */

const book: OrderRecord[] = demoOrders.map((order) => ({ ...order, lines: order.lines.map((line) => ({ ...line })) }));
const byPk = new Map(book.map((order) => [order.pk, order]));

/** Every order, drafts included, in creation order. */
export const allOrders = (): readonly OrderRecord[] => book;

export const orderByPk = (pk: string): OrderRecord | null => byPk.get(pk) ?? null;

/** Saleor numbers orders (drafts included) in one sequence. */
const nextNumber = () => String(Math.max(1000, ...book.map((o) => Number(o.number))) + 1);

export function addOrder(order: Omit<OrderRecord, 'pk' | 'number'>): OrderRecord {
  const record: OrderRecord = { ...order, pk: randomUUID(), number: nextNumber() };
  book.push(record);
  byPk.set(record.pk, record);
  return record;
}

/**
 * Changes an order and stamps its `updatedAt` (Saleor's `updated_at` is `auto_now`). The stamp
 * never goes backwards and always moves, even within one millisecond: webhook receivers order
 * the states of an order by it.
 */
export function updateOrder(order: OrderRecord, change: Partial<Omit<OrderRecord, 'pk' | 'number'>>, now = new Date()): OrderRecord {
  const previous = Date.parse(order.updatedAt);
  const stamp = new Date(Math.max(now.getTime(), previous + 1)).toISOString();
  Object.assign(order, change, { updatedAt: stamp });
  return order;
}
