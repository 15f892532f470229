import DataLoader from 'dataloader';
import { ONE_STATEMENT, type Tx, type TxRunner } from './db/database.ts';

/**
 * A per-request DataLoader that fetches many rows in one statement (`WHERE id = ANY($1)`) inside
 * the caller's tenant transaction. Rows the tenant cannot see (RLS) come back as null, exactly
 * like rows that do not exist, so a foreign id reveals nothing.
 */
export function rowsById<V, K extends string = string>(
  tx: TxRunner,
  fetch: (tx: Tx, ids: readonly K[]) => Promise<V[]>,
  keyOf: (row: V) => K,
): DataLoader<K, V | null> {
  return new DataLoader<K, V | null>(
    async (ids) => {
      const rows = await tx((t) => fetch(t, ids), ONE_STATEMENT);
      const byKey = new Map(rows.map((row) => [keyOf(row), row] as const));
      return ids.map((id) => byKey.get(id) ?? null);
    },
    { maxBatchSize: 500 },
  );
}

/** A per-request loader of lists keyed by a parent id (one statement per batch). */
export function rowsByParent<V, K extends string = string>(
  tx: TxRunner,
  fetch: (tx: Tx, parentIds: readonly K[]) => Promise<V[]>,
  parentOf: (row: V) => K,
): DataLoader<K, V[]> {
  return new DataLoader<K, V[]>(
    async (ids) => {
      const rows = await tx((t) => fetch(t, ids), ONE_STATEMENT);
      const groups = new Map<K, V[]>();
      for (const row of rows) {
        const key = parentOf(row);
        const list = groups.get(key);
        if (list) list.push(row);
        else groups.set(key, [row]);
      }
      return ids.map((id) => groups.get(id) ?? []);
    },
    { maxBatchSize: 500 },
  );
}
