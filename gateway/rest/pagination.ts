import { Kind, parse, print, visit, type FieldNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import { detail, INVALID_PAGE } from './errors.ts';
import type { OffsetWindow, PageWindow, QueryParam, RestCall } from './types.ts';
import { single } from './query.ts';

/*
 * DRF page-number pagination (`?page=&page_size=`) and Wagtail's limit/offset (`?limit=&offset=`)
 * over Relay connections (`first`/`after`).
 *
 * Relay cursors are opaque, so "page N" has no direct translation. The strategies:
 *  - `first: page * page_size` and drop the head: one request, but the whole head travels and
 *    the graph caps `first` at 100, so it stops working after a few pages. Rejected.
 *  - forge an offset cursor (the kit's are base64url("offset:N")): one request, but it ties the
 *    shim to one subgraph's cursor internals and breaks on any other (a real Saleor's, keyset
 *    cursors a subgraph may adopt later). Rejected.
 *  - what we do: every `next` link carries the cursor the next page starts after
 *    (`&cursor=<endCursor>`), so a client following `next` (what DRF clients do) costs exactly
 *    one operation per page, with any cursor format. A page asked for by number without that
 *    cursor is reached by a cursor walk: the same operation with the connection's selection cut
 *    down to `totalCount pageInfo { endCursor hasNextPage }`, `first: 100` at a time, so page N
 *    costs 1 + ceil((N-1) * page_size / 100) small operations (page 1 and the next links: one).
 *    The first step returns totalCount, so a page past the end is a 404 after one step, and the
 *    walk can never run longer than the list. The subgraph still reads the skipped rows (as an
 *    SQL OFFSET would); the subgraph response cache absorbs repeated walks.
 * A `cursor` that does not belong to the list is rejected by the subgraph (400), and one from
 * another tenant's list selects nothing of theirs: row-level security applies to every step.
 *
 * Wagtail's `?limit=&offset=` has no links to carry a cursor: an offset is reached by the same
 * walk (`walkTo`), so offset N costs 1 + ceil(N / 100) operations (offset 0: one), and an offset
 * past the end ends the walk after its first step (Wagtail answers it with no items, not a 404).
 */

export const DEFAULT_PAGE_SIZE = 20;
/** The graph's limit for `first` (Saleor's and the kit's). */
export const MAX_PAGE_SIZE = 100;
const STEP = MAX_PAGE_SIZE;

/** The query parameters every paginated route accepts (documented in OpenAPI, parsed here). */
export const PAGE_PARAMS: Record<string, QueryParam> = {
  page: { schema: { type: 'integer', minimum: 1 }, description: 'A page number within the paginated result set (1-based).' },
  page_size: {
    schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE },
    description: `Number of results to return per page (default ${DEFAULT_PAGE_SIZE}, at most ${MAX_PAGE_SIZE}).`,
  },
  cursor: {
    schema: { type: 'string' },
    description: 'Set by the `next` link: where that page starts, so following `next` costs one lookup. Leave it to the link.',
  },
};


/** DRF's `_positive_int(..., strict=True, cutoff=max)`: invalid or 0 -> the default, above max -> max. */
export function parsePageSize(raw: string | string[] | undefined): number {
  const text = single(raw);
  if (!text || !/^\d{1,9}$/.test(text)) return DEFAULT_PAGE_SIZE;
  const value = Number(text);
  return value === 0 ? DEFAULT_PAGE_SIZE : Math.min(value, MAX_PAGE_SIZE);
}

/** DRF: a missing page is 1; anything but a positive integer is 404 "Invalid page.". */
export function parsePageNumber(raw: string | string[] | undefined): number {
  const text = single(raw);
  if (text === undefined || text === '') return 1;
  if (!/^\d{1,9}$/.test(text) || Number(text) < 1) throw detail(404, INVALID_PAGE);
  return Number(text);
}

/** One walk step: how far `first: n` after `after` reached. */
export interface Step {
  endCursor: string | null;
  hasNextPage: boolean;
  totalCount: number | null;
}

/** Where a walk to an offset ended. */
export interface Walked {
  /** The cursor of the row before the offset (null for offset 0). */
  after: string | null;
  /** The list ends at or before the offset (known after the first step, from its totalCount). */
  past: boolean;
  /** The list's total, from the first step (null without a step or a totalCount). */
  totalCount: number | null;
}

/**
 * The cursor walk: the cursor `offset` rows into the list, reached with `first: 100` steps after
 * the previous step's `endCursor` (never a forged cursor). Both paginations use it.
 */
export async function walkTo(offset: number, step: (first: number, after: string | null) => Promise<Step>): Promise<Walked> {
  let remaining = offset;
  let after: string | null = null;
  let totalCount: number | null = null;
  let first = true;
  while (remaining > 0) {
    const n = Math.min(remaining, STEP);
    const reached = await step(n, after);
    if (first) {
      totalCount = reached.totalCount;
      if (totalCount !== null && totalCount <= offset) return { after: null, past: true, totalCount };
    }
    first = false;
    remaining -= n;
    if (!reached.endCursor || (remaining > 0 && !reached.hasNextPage)) return { after: null, past: true, totalCount };
    after = reached.endCursor;
  }
  return { after, past: false, totalCount };
}

/** Resolves `?page=&page_size=&cursor=` to the cursor the page starts after. */
export async function pageWindow(
  query: RestCall['query'],
  step: (first: number, after: string | null) => Promise<Step>,
): Promise<PageWindow> {
  const page = parsePageNumber(query.page);
  const pageSize = parsePageSize(query.page_size);
  if (page === 1) return { page, pageSize, after: null };
  const hint = single(query.cursor);
  if (hint) return { page, pageSize, after: hint };
  const walked = await walkTo((page - 1) * pageSize, step);
  if (walked.past) throw detail(404, INVALID_PAGE);
  return { page, pageSize, after: walked.after };
}

// --- Limit/offset (Wagtail API v2) ---------------------------------------------------------------

/** Wagtail's WAGTAILAPI_LIMIT_MAX default: also the default limit. */
export const LIMIT_MAX = 20;

export const OFFSET_PARAMS: Record<string, QueryParam> = {
  limit: { schema: { type: 'integer', minimum: 0, maximum: LIMIT_MAX }, description: `Number of items to return (default ${LIMIT_MAX}, at most ${LIMIT_MAX}).` },
  offset: { schema: { type: 'integer', minimum: 0 }, description: 'Number of items to skip (default 0).' },
};

/** Python's `int()` of a query value: optional sign, digits, surrounding blanks. */
const pythonInt = (text: string) => (/^\s*[+-]?\d{1,30}\s*$/.test(text) ? Number(text) : null);

/**
 * Wagtail's `WagtailPagination`: `offset` (default 0) and `limit` (default and maximum 20), with
 * its messages; then the walk to the offset. An offset at or past the end is not an error (the
 * items are empty and `total_count` still counts).
 */
export async function offsetWindow(
  query: RestCall['query'],
  step: (first: number, after: string | null) => Promise<Step>,
): Promise<OffsetWindow> {
  const rawOffset = single(query.offset);
  const offset = rawOffset === undefined ? 0 : pythonInt(rawOffset);
  if (offset === null || offset < 0) throw detail(400, 'offset must be a positive integer');
  const rawLimit = single(query.limit);
  const limit = rawLimit === undefined ? LIMIT_MAX : pythonInt(rawLimit);
  if (limit === null) throw detail(400, 'limit must be a positive integer');
  if (limit > LIMIT_MAX) throw detail(400, `limit cannot be higher than ${LIMIT_MAX}`);
  if (limit < 0) throw detail(400, 'limit must be a positive integer');
  if (offset === 0) return { limit, offset, after: null, past: false };
  const walked = await walkTo(offset, step);
  return { limit, offset, after: walked.after, past: walked.past };
}

export interface ConnectionValue<T = unknown> {
  totalCount?: number | null;
  pageInfo: { hasNextPage: boolean; endCursor?: string | null };
  edges: { node: T }[];
}

/**
 * A connection -> DRF's `{"count", "next", "previous", "results"}` with absolute links. Like DRF,
 * a page past the end is 404 "Invalid page." (an empty first page is fine), and the link to
 * page 1 has no `page` parameter.
 */
export function drfPage<T>(connection: ConnectionValue<T>, call: RestCall, item: (node: T) => unknown) {
  const window = call.page!;
  if (window.page > 1 && connection.edges.length === 0) throw detail(404, INVALID_PAGE);
  const next =
    connection.pageInfo.hasNextPage && connection.pageInfo.endCursor
      ? call.link({ page: window.page + 1, cursor: connection.pageInfo.endCursor })
      : null;
  const previous = window.page > 1 ? call.link({ page: window.page === 2 ? null : window.page - 1, cursor: null }) : null;
  return {
    count: connection.totalCount ?? (window.page - 1) * window.pageSize + connection.edges.length,
    next,
    previous,
    results: connection.edges.map((edge) => item(edge.node)),
  };
}

// --- The walk's operation -----------------------------------------------------------------------

const field = (name: string, selections?: FieldNode[]): FieldNode => ({
  kind: Kind.FIELD,
  name: { kind: Kind.NAME, value: name },
  ...(selections ? { selectionSet: { kind: Kind.SELECTION_SET, selections } } : {}),
});

/**
 * The route's list operation with the connection at `root` selecting only
 * `totalCount pageInfo { endCursor hasNextPage }`, other root fields dropped, fragments and
 * variables no longer used removed (GraphQL rejects unused ones). Same arguments, so the same
 * list: filters, ordering and tenant. Alternative roots (types.ts `root` as a list) are all kept
 * with their `@include`/`@skip`, so the walk selects the same one the route's operation does.
 */
export function walkOperation(operation: string, root: string | readonly string[]): string {
  const document = parse(operation);
  const op = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (!op) throw new Error('walkOperation: no operation');
  const selectionSet: SelectionSetNode = {
    kind: Kind.SELECTION_SET,
    selections: [field('totalCount'), field('pageInfo', [field('endCursor'), field('hasNextPage')])],
  };
  const roots = (typeof root === 'string' ? [root] : [...root]).map((name) => {
    const rootField = op.selectionSet.selections.find(
      (s): s is FieldNode => s.kind === Kind.FIELD && (s.alias?.value ?? s.name.value) === name,
    );
    if (!rootField) throw new Error(`walkOperation: no root field "${name}"`);
    return { ...rootField, selectionSet };
  });
  const slim: OperationDefinitionNode = {
    ...op,
    name: { kind: Kind.NAME, value: `${op.name?.value ?? 'List'}Walk` },
    selectionSet: { kind: Kind.SELECTION_SET, selections: roots },
  };
  const used = new Set<string>();
  visit(slim.selectionSet, { Variable: (v) => void used.add(v.name.value) });
  const pruned = { ...slim, variableDefinitions: slim.variableDefinitions?.filter((d) => used.has(d.variable.name.value)) };
  return print({ kind: Kind.DOCUMENT, definitions: [pruned] });
}
