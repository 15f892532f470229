import type { Page } from '../connection.ts';
import type { Table } from './table.ts';
import type { Tx } from './database.ts';

/** Where a row stands among its parent's children; `selectChildPages` adds it to every row. */
export interface ChildPosition {
  /** The parent's id. */
  child_of: string;
  /** 1-based place in the parent's order (a bigint, so a string). */
  child_rn: string;
  /** How many children the parent has (a bigint, so a string). */
  child_total: string;
}

export interface ChildrenOf {
  /** The uuid column naming the parent (`lead_id`, `p.parent_id`). */
  parent: string;
  /** The children's order within each parent. */
  orderBy: string;
}

/**
 * The read of one batch of kit/loaders.ts `childPages`: the same page (offset, size) of the
 * children of many parents, in one statement, with per-parent numbering and totals. Every
 * parent's first child comes back even when it is not on the page, so a page past the end
 * still carries its parent's total and needs no second statement to count.
 *
 *   export const activitiesOfLeads = selectChildPages<ActivityRow>(ACTIVITIES, { parent: 'lead_id', orderBy: 'created_at DESC, id DESC' });
 */
export function selectChildPages<R>(
  table: Table,
  children: ChildrenOf,
): (tx: Tx, parentIds: readonly string[], page: Page) => Promise<(R & ChildPosition)[]> {
  const text = `SELECT * FROM (
       SELECT ${table.columns}, ${children.parent} AS child_of,
         row_number() OVER (PARTITION BY ${children.parent} ORDER BY ${children.orderBy}) AS child_rn,
         count(*) OVER (PARTITION BY ${children.parent}) AS child_total
       FROM ${table.name} WHERE ${children.parent} = ANY($1::uuid[])
     ) c WHERE child_rn = 1 OR (child_rn > $2 AND child_rn <= $2 + $3) ORDER BY child_of, child_rn`;
  return async (tx, parentIds, page) => (await tx.query<R & ChildPosition>(text, [parentIds, page.offset, page.limit])).rows;
}
