import { RunError } from '../run-error.ts';
import type { AnalystContext } from './types.ts';

/** A Relay connection as the subgraphs return it (only what paging needs). */
export interface Connection<N> {
  edges: { node: N }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/** The largest page every subgraph accepts (`first` at most 100). */
export const PAGE_SIZE = 100;

/** Stops a run between two steps once its signal aborted (cancelled, expired, process stopping). */
export function checkAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new RunError('CANCELLED', 'The run was cancelled.', false);
}

/**
 * Every node of a connection, page by page (`first: 100`, then `after` the last cursor): the
 * document takes `$first` and `$after` and `pick` finds the connection in its data. A root field
 * that comes back null (its subgraph answered nothing) is an upstream failure, not an empty list:
 * an analysis of half the data would report wrong numbers.
 */
export async function collectAll<N, D>(
  ctx: Pick<AnalystContext, 'gateway' | 'signal'>,
  document: string,
  variables: Record<string, unknown>,
  pick: (data: D) => Connection<N> | null | undefined,
  onPage?: (fetched: number) => Promise<void> | void,
): Promise<N[]> {
  const nodes: N[] = [];
  // Cursors are positions: a row added or removed while paging shifts the pages by one, and a
  // node read twice would count twice.
  const seen = new Set<unknown>();
  let after: string | null = null;
  for (;;) {
    checkAborted(ctx.signal);
    const data: D = await ctx.gateway.query<D>(document, { ...variables, first: PAGE_SIZE, after });
    const connection = pick(data);
    if (!connection) throw new RunError('UPSTREAM_ERROR', 'A list the analysis needs could not be read.');
    for (const { node } of connection.edges) {
      const id = (node as { id?: unknown }).id;
      if (id !== undefined && seen.has(id)) continue;
      seen.add(id);
      nodes.push(node);
    }
    await onPage?.(nodes.length);
    if (!connection.pageInfo.hasNextPage || !connection.pageInfo.endCursor) return nodes;
    after = connection.pageInfo.endCursor;
  }
}

/** `items` in slices of `size` (batched writes and look-ups). */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
