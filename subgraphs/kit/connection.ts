import type { GraphQLResolveInfo, SelectionSetNode } from 'graphql';
import { badInput } from './errors.ts';

export const MAX_PAGE_SIZE = 100;

export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export interface Page {
  limit: number;
  offset: number;
}

const encodeNow = (offset: number) => Buffer.from(`offset:${offset}`).toString('base64url');
/** The cursors of the first offsets, each encoded once: every edge of every page has one. */
const CURSORS: string[] = [];
const CACHED_CURSORS = 10_000;
const encode = (offset: number) => (offset < CACHED_CURSORS ? (CURSORS[offset] ??= encodeNow(offset)) : encodeNow(offset));
function decode(cursor: string, name: string): number {
  const text = Buffer.from(cursor, 'base64url').toString();
  const match = /^offset:(\d{1,9})$/.exec(text);
  if (!match) throw badInput(`Invalid cursor in "${name}".`, name);
  return Number(match[1]);
}

/**
 * Relay forward/backward pagination over an ordered list, as Saleor does it: `first` or `last`
 * between 1 and 100 (above 100 is an error, not a silent cap).
 */
export function toPage(args: PageArgs, defaultSize = 20): Page {
  for (const name of ['first', 'last'] as const) {
    const value = args[name];
    if (value != null && (value < 0 || value > MAX_PAGE_SIZE)) {
      throw badInput(`Argument "${name}" must be between 0 and ${MAX_PAGE_SIZE}, got ${value}.`, name);
    }
  }
  if (args.first != null && args.last != null) throw badInput('Use either "first" or "last", not both.', 'last');
  const after = args.after ? decode(args.after, 'after') + 1 : 0;
  if (args.last != null || args.before) {
    const before = args.before ? decode(args.before, 'before') : Number.MAX_SAFE_INTEGER;
    const size = args.last ?? defaultSize;
    const end = Math.max(after, before);
    const offset = Math.max(after, end - size);
    return { offset, limit: Math.min(size, end - offset) };
  }
  return { offset: after, limit: args.first ?? defaultSize };
}

/**
 * Whether the connection field being resolved asks for `totalCount` (directly, in an inline
 * fragment or a named one). Counting every row of a list costs more than reading one page of
 * it (the page comes off an index; the count scans every row the tenant has), so lists count
 * only when asked.
 */
export function selectsTotalCount(info: GraphQLResolveInfo): boolean {
  return selectedFields(info, []).has('totalCount');
}

/**
 * Whether the query asks nothing at `path` but some of `fields`: a reference asked for by its key
 * alone (`convertedContact { id }`) can be answered without reading the row it names.
 */
export function selectsOnly(info: GraphQLResolveInfo, path: readonly string[], fields: readonly string[]): boolean {
  for (const field of selectedFields(info, path)) if (!fields.includes(field)) return false;
  return true;
}

/**
 * The fields selected at `path` below the field being resolved, by name (not alias), through
 * inline and named fragments: `selectedFields(info, ['edges', 'node'])` is what a connection's
 * query asks of its nodes, so a store can read only the columns those need (kit/db/table.ts
 * `columnsFor`). Fields under `@skip`/`@include` count as selected: reading a column too many
 * costs little, one too few would answer null.
 */
export function selectedFields(info: GraphQLResolveInfo, path: readonly string[]): Set<string> {
  const found = new Set<string>();
  const seen = new Set<string>();
  const visit = (set: SelectionSetNode | undefined, depth: number): void => {
    for (const selection of set?.selections ?? []) {
      if (selection.kind === 'Field') {
        if (depth === path.length) found.add(selection.name.value);
        else if (selection.name.value === path[depth]) visit(selection.selectionSet, depth + 1);
      } else if (selection.kind === 'InlineFragment') {
        visit(selection.selectionSet, depth);
      } else {
        const key = `${selection.name.value}@${depth}`;
        if (seen.has(key)) continue;
        seen.add(key);
        visit(info.fragments[selection.name.value]?.selectionSet, depth);
      }
    }
  };
  for (const node of info.fieldNodes) visit(node.selectionSet, 0);
  return found;
}

/** Which rows of a list, and whether to count them all (`totalCount` selected). */
export interface ListRequest extends Page {
  withTotal: boolean;
}

/** The page a list field's arguments ask for, and whether its selection wants the total. */
export const toListRequest = (args: PageArgs, info: GraphQLResolveInfo, defaultSize = 20): ListRequest => ({
  ...toPage(args, defaultSize),
  withTotal: selectsTotalCount(info),
});

export interface Connection<T> {
  edges: { node: T; cursor: string }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: number;
}

/**
 * Shapes one page of rows (already sliced by `page`) and the total into a Relay connection.
 * `totalCount` may be null only when the query does not select it (see selectsTotalCount); it
 * then becomes NaN, which GraphQL refuses to serialize as an Int, so a wrong count can never
 * reach a client. `hasNextPage` then comes from the list (one row read past the page).
 */
export function toConnection<T>(
  rows: readonly T[],
  page: Page,
  totalCount: number | null,
  hasNextPage = totalCount !== null && page.offset + rows.length < totalCount,
): Connection<T> {
  const edges = rows.map((node, i) => ({ node, cursor: encode(page.offset + i) }));
  return {
    edges,
    pageInfo: {
      hasNextPage,
      hasPreviousPage: page.offset > 0,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount: totalCount ?? Number.NaN,
  };
}

/** A page read by kit/db/list.ts `readPage` as a Relay connection, each row mapped by `map`. */
export function listConnection<R, T = R>(
  list: { rows: readonly R[]; total: number | null; hasMore: boolean },
  page: Page,
  map?: (row: R) => T,
): Connection<T> {
  const rows = map ? list.rows.map(map) : (list.rows as unknown as readonly T[]);
  return toConnection(rows, page, list.total, list.hasMore);
}

/** For in-memory lists (the Saleor stand-in's catalog). */
export function paginate<T>(items: readonly T[], args: PageArgs, defaultSize = 20): Connection<T> {
  const page = toPage(args, defaultSize);
  return toConnection(items.slice(page.offset, page.offset + page.limit), page, items.length);
}
