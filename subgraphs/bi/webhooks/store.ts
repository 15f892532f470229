import type { Tx } from '../../kit/db/database.ts';
import { CURRENT_TENANT } from '../../kit/db/tenant.ts';
import type { OrderFacts } from './facts.ts';
import type { OrderEvent } from './subscription.ts';

/*
 * SQL of the order facts, inside the caller's tenant transaction (rows take the transaction's
 * tenant; row-level security decides what exists). An order is written whole: its row, then its
 * lines replaced, and only when its state is newer than the one stored (Saleor's `updatedAt`),
 * so a late delivery never rolls an order back. Two deliveries of one order
 * serialise on its row: the lines are replaced only by the one whose row update went through.
 */

/** The tenant of a Saleor channel (auth's SECURITY DEFINER function), null when none or ambiguous. */
export async function tenantOfChannel(tx: Tx, channel: string): Promise<string | null> {
  const { rows } = await tx.query<{ tenant_id: string | null }>('SELECT auth.tenant_of_saleor_channel($1) AS tenant_id', [channel]);
  return rows[0]?.tenant_id ?? null;
}

export interface EventKey {
  orderId: string;
  event: OrderEvent;
  eventKey: string;
  issuedAt: string | null;
  orderUpdatedAt: string;
}

/** Records a received event; false when it was received before (a retry, a replay). */
export async function recordEvent(tx: Tx, key: EventKey): Promise<boolean> {
  const { rowCount } = await tx.query(
    `INSERT INTO bi.saleor_events (tenant_id, order_id, event, event_key, issued_at, order_updated_at, applied)
     VALUES (${CURRENT_TENANT}, $1, $2, $3, $4, $5, true)
     ON CONFLICT (tenant_id, order_id, event, event_key) DO NOTHING`,
    [key.orderId, key.event, key.eventKey, key.issuedAt, key.orderUpdatedAt],
  );
  return rowCount === 1;
}

export async function markNotApplied(tx: Tx, key: EventKey): Promise<void> {
  await tx.query(
    `UPDATE bi.saleor_events SET applied = false WHERE order_id = $1 AND event = $2 AND event_key = $3`,
    [key.orderId, key.event, key.eventKey],
  );
}

/**
 * Writes the order and its lines when it is new or newer than the state stored; true when written.
 * The same state again (a backfill run twice, the two events of one change) writes nothing.
 */
export async function upsertOrder(tx: Tx, facts: OrderFacts): Promise<boolean> {
  const { rowCount } = await tx.query(
    `INSERT INTO bi.orders (tenant_id, order_id, number, channel, status, paid, total_gross, total_net, currency, created_at, updated_at)
     VALUES (${CURRENT_TENANT}, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (tenant_id, order_id) DO UPDATE SET
       number = EXCLUDED.number, channel = EXCLUDED.channel, status = EXCLUDED.status, paid = EXCLUDED.paid,
       total_gross = EXCLUDED.total_gross, total_net = EXCLUDED.total_net, currency = EXCLUDED.currency,
       created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at
     WHERE bi.orders.updated_at < EXCLUDED.updated_at`,
    [
      facts.order_id,
      facts.number,
      facts.channel,
      facts.status,
      facts.paid,
      facts.total_gross,
      facts.total_net,
      facts.currency,
      facts.created_at,
      facts.updated_at,
    ],
  );
  if (rowCount !== 1) return false;
  // Lines as one JSON parameter: one statement whatever their number.
  await tx.query('DELETE FROM bi.order_lines WHERE order_id = $1', [facts.order_id]);
  if (facts.lines.length) {
    await tx.query(
      `INSERT INTO bi.order_lines (tenant_id, order_id, line_id, product_id, product_name, variant_id, sku, quantity, unit_price_gross, total_gross, currency, created_at)
       SELECT ${CURRENT_TENANT}, $1, l.line_id, l.product_id, l.product_name, l.variant_id, l.sku, l.quantity, l.unit_price_gross, l.total_gross, l.currency, $3
       FROM jsonb_to_recordset($2::jsonb) AS l(line_id text, product_id text, product_name text, variant_id text, sku text,
         quantity integer, unit_price_gross numeric, total_gross numeric, currency text)
       ON CONFLICT (tenant_id, order_id, line_id) DO NOTHING`,
      [facts.order_id, JSON.stringify(facts.lines), facts.created_at],
    );
  }
  return true;
}
