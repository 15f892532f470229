import { Params } from './params.ts';
import { CURRENT_TENANT } from './tenant.ts';
import type { Table } from './table.ts';
import type { Tx } from './database.ts';

// One row written by its id, in the caller's tenant transaction. Column names come from the
// store (never from input); values are always parameters.

/**
 * INSERT of one row of the caller's tenant (tenant_id is the transaction's), returning
 * `table.columns`.
 *
 *   const lead = await insertRow<LeadRow>(tx, LEADS, { name: 'Jane', email: null });
 */
export async function insertRow<R>(tx: Tx, table: Table, values: Readonly<Record<string, unknown>>): Promise<R> {
  const p = new Params();
  const columns = Object.keys(values);
  const placeholders = columns.map((column) => p.add(values[column]));
  const { rows } = await tx.query<R>(
    `INSERT INTO ${table.name} (tenant_id, ${columns.join(', ')}) VALUES (${CURRENT_TENANT}, ${placeholders.join(', ')}) RETURNING ${table.columns}`,
    p.values,
  );
  return rows[0]!;
}

/**
 * UPDATE of the given columns of row `id`, and of `updated_at` (every table written this way
 * has one); `condition` (SQL, `AND ...`) narrows which row may change. The row as it is now, or
 * null when there is no such row (or the condition kept it).
 *
 *   const lead = await updateRow<LeadRow>(tx, LEADS, id, { owner_id: null });
 */
export async function updateRow<R>(
  tx: Tx,
  table: Table,
  id: string,
  changes: Readonly<Record<string, unknown>>,
  condition = '',
): Promise<R | null> {
  const p = new Params();
  const idParam = p.add(id);
  const sets = Object.keys(changes).map((column) => `${column} = ${p.add(changes[column])}`);
  sets.push('updated_at = now()');
  const { rows } = await tx.query<R>(
    `UPDATE ${table.name} SET ${sets.join(', ')} WHERE id = ${idParam} ${condition} RETURNING ${table.columns}`,
    p.values,
  );
  return rows[0] ?? null;
}

/**
 * DELETE of row `id`: its id, or null when there is no such row.
 *
 *   const deletedId = await deleteRow(tx, LEADS, id);
 */
export async function deleteRow(tx: Tx, table: Pick<Table, 'name'>, id: string): Promise<string | null> {
  const { rows } = await tx.query<{ id: string }>(`DELETE FROM ${table.name} WHERE id = $1 RETURNING id`, [id]);
  return rows[0]?.id ?? null;
}
