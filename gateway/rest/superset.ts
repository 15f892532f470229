import { supersetError } from './errors.ts';
import { parseRison, RisonError } from './rison.ts';
import type { QueryParam, RestCall } from './types.ts';
import { single } from './query.ts';

/*
 * Superset's REST API v1 list conventions (Flask-AppBuilder's `ModelRestApi.get_list`), for the
 * `superset` routes of the table as wagtail.ts is for Wagtail's:
 *
 *  - `?q=` is rison (rison.ts), or JSON (FAB_API_ALLOW_JSON_QS): `(filters:!((col:slug,opr:eq,
 *    value:sales)),order_column:changed_on,order_direction:desc,page:0,page_size:25,
 *    columns:!(id,slug),keys:!(none))`; an unreadable one is 400 `Not a valid rison/json
 *    argument`, one of the wrong shape 400 `Not a valid rison schema: ...`;
 *  - filters: `eq`, `neq`, `ct` / `nct` (contains, case-insensitive), `sw` / `nsw` (starts with),
 *    `ew` / `new` (ends with), `in` / `not_in` (a list), each on the columns a list allows (400
 *    `Filter column: x not allowed to filter`);
 *  - pages from 0, `page_size` 20 by default and at most 100 (FAB_API_MAX_PAGE_SIZE; more, or
 *    less than 1, is 100, as FAB does);
 *  - `{count, ids, result}` plus the metadata keys (`description_columns`, `label_columns`,
 *    `list_columns`, `list_title`, `order_columns`) unless `keys` names others (`none`: no key).
 */

export const Q_PARAM: QueryParam = {
  schema: { type: 'string', maxLength: 10_000 },
  description:
    'Rison (or JSON): `filters` (`!((col:..,opr:eq|neq|ct|nct|sw|nsw|ew|new|in|not_in,value:..))`), `order_column`, ' +
    '`order_direction` (`asc`/`desc`), `page` (from 0), `page_size` (at most 100), `columns`, `keys`.',
};

export type Operator = 'eq' | 'neq' | 'ct' | 'nct' | 'sw' | 'nsw' | 'ew' | 'new' | 'in' | 'not_in';
const TEXT_OPERATORS: readonly Operator[] = ['eq', 'neq', 'ct', 'nct', 'sw', 'nsw', 'ew', 'new', 'in', 'not_in'];
const EXACT_OPERATORS: readonly Operator[] = ['eq', 'neq', 'in', 'not_in'];
const METADATA_KEYS = ['description_columns', 'label_columns', 'list_columns', 'list_title', 'order_columns'] as const;

export interface Filter {
  col: string;
  opr: string;
  value: unknown;
}

/** A `q` read and checked against FAB's list schema. */
export interface ListArgs {
  filters: Filter[];
  orderColumn: string | null;
  orderDirection: 'asc' | 'desc' | null;
  page: number;
  pageSize: number;
  columns: string[] | null;
  keys: string[] | null;
}


/** `?q=` as rison, else JSON (FAB tries both), else 400. An empty or missing `q` is `{}`. */
export function decodeQ(raw: string | string[] | undefined): unknown {
  const text = single(raw);
  if (!text) return {};
  try {
    return parseRison(text);
  } catch (error) {
    if (!(error instanceof RisonError)) throw error;
    try {
      return JSON.parse(text);
    } catch {
      throw supersetError(400, 'Not a valid rison/json argument');
    }
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const schemaError = (path: string, message: string) => supersetError(400, `Not a valid rison schema: ${path} ${message}`);

/** FAB's `get_list_schema`, with its 400s. */
export function listArgs(q: unknown): ListArgs {
  if (!isRecord(q)) throw schemaError('q', 'is not of type object');
  const strings = (key: string): string[] | null => {
    const value = q[key];
    if (value === undefined) return null;
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw schemaError(key, 'is not an array of strings');
    return value as string[];
  };
  const integer = (key: string, fallback: number): number => {
    const value = q[key];
    if (value === undefined) return fallback;
    if (!Number.isInteger(value)) throw schemaError(key, 'is not of type integer');
    return value as number;
  };
  const text = (key: string): string | null => {
    const value = q[key];
    if (value === undefined) return null;
    if (typeof value !== 'string') throw schemaError(key, 'is not of type string');
    return value;
  };

  const filters = q.filters === undefined ? [] : q.filters;
  if (!Array.isArray(filters)) throw schemaError('filters', 'is not of type array');
  filters.forEach((filter, i) => {
    if (!isRecord(filter)) throw schemaError(`filters.${i}`, 'is not of type object');
    for (const key of ['col', 'opr', 'value']) if (!(key in filter)) throw schemaError(`filters.${i}`, `'${key}' is a required property`);
    if (typeof filter.col !== 'string') throw schemaError(`filters.${i}.col`, 'is not of type string');
    if (typeof filter.opr !== 'string') throw schemaError(`filters.${i}.opr`, 'is not of type string');
    if (isRecord(filter.value)) throw schemaError(`filters.${i}.value`, 'is not a number, a string, a boolean, null or a list');
  });

  const direction = text('order_direction');
  if (direction !== null && direction !== 'asc' && direction !== 'desc') throw schemaError('order_direction', "is not one of ['asc', 'desc']");
  const page = integer('page', 0);
  if (page < 0) throw schemaError('page', 'is less than the minimum of 0');
  let pageSize = integer('page_size', 20);
  if (pageSize > 100 || pageSize < 1) pageSize = 100;
  const keys = strings('keys');
  const allowedKeys = [...METADATA_KEYS, 'none'];
  const badKey = keys?.find((k) => !allowedKeys.includes(k));
  if (badKey !== undefined) throw schemaError('keys', `'${badKey}' is not one of [${allowedKeys.map((k) => `'${k}'`).join(', ')}]`);
  return {
    filters: filters as Filter[],
    orderColumn: text('order_column'),
    orderDirection: direction as ListArgs['orderDirection'],
    page,
    pageSize,
    columns: strings('columns'),
    keys,
  };
}

/** One column of a list: its value in a result item, and what `q` may do with it. */
export interface ListColumn<T> {
  value(item: T): unknown;
  /** Filters allowed on it: `text` (every operator), `exact` (eq, neq, in, not_in). */
  filter?: 'text' | 'exact';
  /** It may be `order_column` (sorted by its value, or by `sortKey`). */
  order?: boolean;
  sortKey?(item: T): string | number | boolean | null;
  /** Left out of the default `list_columns` (only given when `columns` names it). */
  hidden?: boolean;
}

export interface ListSpec<T> {
  /** FAB's `list_title`. */
  title: string;
  /** Result columns, in output order. */
  columns: Record<string, ListColumn<T>>;
  /** The primary key (`ids`). */
  id(item: T): string;
  /** FAB's `base_order`: the order without `order_column`. */
  baseOrder: [column: string, direction: 'asc' | 'desc'];
}

/** `dashboard_title` -> `Dashboard Title` (FAB's default label). */
const label = (column: string) => column.split(/[_.]/).map((w) => (w ? w[0]!.toUpperCase() + w.slice(1) : w)).join(' ');

const lower = (value: unknown) => (value === null || value === undefined ? '' : String(value).toLowerCase());

/** Does `value` pass FAB's filter `opr` with the filter value `wanted`? */
function matches(opr: Operator, value: unknown, wanted: unknown): boolean {
  switch (opr) {
    case 'eq':
      return typeof wanted === 'string' && typeof value === 'string' && isId(value) ? value.toLowerCase() === wanted.toLowerCase() : value === wanted;
    case 'neq':
      return !matches('eq', value, wanted);
    case 'ct':
      return lower(value).includes(lower(wanted));
    case 'nct':
      return !lower(value).includes(lower(wanted));
    case 'sw':
      return lower(value).startsWith(lower(wanted));
    case 'nsw':
      return !lower(value).startsWith(lower(wanted));
    case 'ew':
      return lower(value).endsWith(lower(wanted));
    case 'new':
      return !lower(value).endsWith(lower(wanted));
    case 'in':
      return (wanted as unknown[]).some((w) => matches('eq', value, w));
    case 'not_in':
      return !(wanted as unknown[]).some((w) => matches('eq', value, w));
  }
}

/** UUIDs compare case-insensitively (they are hex), other text exactly. */
const isId = (value: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);

/** The filters of `args`, checked against the spec (400s as FAB words them). */
export function checkFilters<T>(spec: ListSpec<T>, args: ListArgs): { col: string; opr: Operator; value: unknown }[] {
  return args.filters.map(({ col, opr, value }) => {
    const column = spec.columns[col];
    if (!column?.filter) throw supersetError(400, `Filter column: ${col} not allowed to filter`);
    const allowed = column.filter === 'text' ? TEXT_OPERATORS : EXACT_OPERATORS;
    if (!allowed.includes(opr as Operator)) throw supersetError(400, `Filter operation: ${opr} not allowed on column: ${col}`);
    if ((opr === 'in' || opr === 'not_in') !== Array.isArray(value)) {
      throw supersetError(400, opr === 'in' || opr === 'not_in' ? `Filter value of ${opr} on ${col} must be a list` : `Filter value of ${opr} on ${col} cannot be a list`);
    }
    return { col, opr: opr as Operator, value };
  });
}

/**
 * FAB's list answer over all `items` (the whole list the caller may see): filtered, ordered
 * (ties by id), paged, columns selected, with the metadata keys `q` asks for.
 */
export function supersetList<T>(spec: ListSpec<T>, args: ListArgs, items: readonly T[]): Record<string, unknown> {
  const filters = checkFilters(spec, args);
  const orderColumn = args.orderColumn ?? spec.baseOrder[0];
  const direction = args.orderColumn ? (args.orderDirection ?? 'asc') : spec.baseOrder[1];
  const orderColumns = Object.keys(spec.columns).filter((name) => spec.columns[name]!.order);
  const order = spec.columns[orderColumn];
  if (!order?.order) throw supersetError(400, `Order column: ${orderColumn} not allowed`);
  const key = order.sortKey ?? ((item: T) => order.value(item) as string | number | boolean | null);

  const kept = items.filter((item) => filters.every((f) => matches(f.opr, spec.columns[f.col]!.value(item), f.value)));
  const sign = direction === 'desc' ? -1 : 1;
  const sorted = kept
    .map((item) => ({ item, key: key(item), id: spec.id(item) }))
    .sort((a, b) => {
      // Nulls last either way, then by value, then by id (a stable page boundary).
      if (a.key === null || b.key === null) return a.key === b.key ? a.id.localeCompare(b.id) : a.key === null ? 1 : -1;
      const byKey = typeof a.key === 'string' ? a.key.localeCompare(b.key as string) : Number(a.key) - Number(b.key);
      return byKey !== 0 ? sign * byKey : a.id.localeCompare(b.id);
    })
    .map((entry) => entry.item);
  const page = sorted.slice(args.page * args.pageSize, (args.page + 1) * args.pageSize);

  const defaults = Object.keys(spec.columns).filter((name) => !spec.columns[name]!.hidden);
  const selected = args.columns?.filter((name) => name in spec.columns);
  const listColumns = selected?.length ? selected : defaults;
  const result = page.map((item) => Object.fromEntries(listColumns.map((name) => [name, spec.columns[name]!.value(item)])));

  const metadata: Record<(typeof METADATA_KEYS)[number], unknown> = {
    description_columns: {},
    label_columns: Object.fromEntries(listColumns.map((name) => [name, label(name)])),
    list_columns: listColumns,
    list_title: spec.title,
    order_columns: orderColumns,
  };
  const wanted = args.keys ?? METADATA_KEYS;
  return {
    count: kept.length,
    ids: page.map((item) => spec.id(item)),
    result,
    ...Object.fromEntries(METADATA_KEYS.filter((k) => wanted.includes(k)).map((k) => [k, metadata[k]])),
  };
}

/** `?q=` of a list route -> its checked arguments. */
export const listArgsOf = (call: RestCall) => listArgs(decodeQ(call.query.q));

/** Superset's `changed_on_delta_humanized` (Python humanize's `naturaltime`): `3 hours ago`. */
export function humanized(iso: string, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  const units: [number, string][] = [
    [365 * 86_400, 'year'],
    [30 * 86_400, 'month'],
    [86_400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
    [1, 'second'],
  ];
  if (seconds < 1) return 'now';
  for (const [size, name] of units) {
    const count = Math.floor(seconds / size);
    if (count >= 1) return count === 1 ? `a${name === 'hour' ? 'n' : ''} ${name} ago` : `${count} ${name}s ago`;
  }
  return 'now';
}
