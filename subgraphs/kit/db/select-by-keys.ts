import { CURRENT_TENANT } from './tenant.ts';
import type { Table } from './table.ts';
import type { Tx } from './database.ts';

export interface KeyedRead {
  /** The uuid column the keys are matched against: `id` (rows by ids), or a parent's id column. */
  key: string;
  /** Order of the rows (a parent's children come back in it); none: PostgreSQL's order. */
  orderBy?: string;
  /**
   * Also require the caller's tenant: for tables whose row-level security shows a caller more
   * than its tenant's rows (an account sees its own memberships in every tenant).
   */
  currentTenantOnly?: boolean;
}

/**
 * The read of one DataLoader batch: every row of `table` whose `key` is one of the given ids, in
 * one statement inside the caller's tenant transaction (row-level security decides which rows
 * exist). The statement text is built once, here, not on every batch.
 *
 *   export const leadsByIds = selectByKeys<LeadRow>(LEADS, { key: 'id' });
 *   export const productsOfDeals = selectByKeys<DealProductRow>(DEAL_PRODUCTS, { key: 'deal_id', orderBy: 'deal_id, position' });
 */
export function selectByKeys<R>(table: Table, read: KeyedRead): (tx: Tx, keys: readonly string[]) => Promise<R[]> {
  const tenant = read.currentTenantOnly ? `tenant_id = ${CURRENT_TENANT} AND ` : '';
  const order = read.orderBy ? ` ORDER BY ${read.orderBy}` : '';
  const text = `SELECT ${table.columns} FROM ${table.name} WHERE ${tenant}${read.key} = ANY($1::uuid[])${order}`;
  return async (tx, keys) => (await tx.query<R>(text, [keys])).rows;
}
