import { wagtailError } from './errors.ts';
import type { QueryParam, RestCall } from './types.ts';

/*
 * Wagtail API v2's conventions (wagtail/api/v2: views.py, serializers.py, utils.py, filters.py,
 * pagination.py), for the `wagtail` routes of the table, as drf.ts is for Django REST Framework:
 *
 *  - listing `{"meta": {"total_count"}, "items": [...]}`, `?limit=&offset=` (pagination.ts);
 *  - an object is `{"id", "meta": {<meta fields>}, <body fields>}`: `id` first, then `meta`
 *    (when any meta field is selected), then the body fields, each group in declaration order;
 *  - `?fields=`: `a,b` adds to the defaults, `-a` removes, `*` (first) starts from every field,
 *    `_` (first) from none; an unknown name is 400 `unknown fields: a, b`, bad syntax 400
 *    `fields error: ...`, sub-fields `a(b)` 400 `'a' does not support nested fields` (no relation
 *    of ours takes them);
 *  - a listing's unknown query parameter is 400 `query parameter is not an operation or a
 *    recognised field: x`;
 *  - every error is `{"message": "..."}` (the `wagtail` dialect, errors.ts).
 */

export type WagtailQuery = RestCall['query'];


/** One `?fields=` entry: name, negated (`-name`), sub-fields (`name(a,b)`) or null. */
export type FieldConfig = [name: string, negated: boolean, sub: FieldConfig[] | null];

class FieldsSyntaxError extends Error {}

/** Wagtail's `parse_fields_parameter`, same grammar and messages. */
export function parseFields(text: string): FieldConfig[] {
  const position = (rest: string) => text.length - rest.length;
  const unexpected = (rest: string) => new FieldsSyntaxError(`unexpected char '${rest[0]}' at position ${position(rest)}`);

  function identifier(rest: string): [string, boolean, string] {
    let first = true;
    let negated = false;
    let ident = '';
    while (rest) {
      const char = rest[0]!;
      if (char === '(' || char === ')' || char === ',') {
        if (!ident) throw unexpected(rest);
        if ((ident === '*' || ident === '_') && char === '(') throw unexpected(rest);
        return [ident, negated, rest];
      } else if (char === '-') {
        if (!first) throw unexpected(rest);
        negated = true;
      } else if (char === '*' || char === '_') {
        if (ident && char === '*') throw unexpected(rest);
        ident += char;
      } else if (/^[\p{L}\p{N}]$/u.test(char)) {
        if (ident === '*') throw unexpected(rest);
        ident += char;
      } else if (/^\s$/.test(char)) {
        throw new FieldsSyntaxError(`unexpected whitespace at position ${position(rest)}`);
      } else {
        throw unexpected(rest);
      }
      first = false;
      rest = rest.slice(1);
    }
    return [ident, negated, rest];
  }

  function fields(rest: string, closing: boolean): [FieldConfig[], string] {
    let firstIdent: string | null = null;
    let isFirst = true;
    const out: FieldConfig[] = [];
    while (rest) {
      let sub: FieldConfig[] | null = null;
      const [ident, negated, after] = identifier(rest);
      rest = after;
      if (ident === '*' || ident === '_') {
        if (!isFirst) throw new FieldsSyntaxError(`'${ident}' must be in the first position`);
        if (negated) throw new FieldsSyntaxError(`'${ident}' cannot be negated`);
      }
      if (rest[0] === '(') {
        if (negated) throw new FieldsSyntaxError(`unexpected char '(' at position ${position(rest)}`);
        [sub, rest] = fields(rest.slice(1), true);
      }
      if (isFirst) firstIdent = ident;
      else {
        if (firstIdent === '_' && negated) throw new FieldsSyntaxError("negated fields with '_' doesn't make sense");
        if (firstIdent === '*' && !negated && !sub) throw new FieldsSyntaxError("additional fields with '*' doesn't make sense");
      }
      out.push([ident, negated, sub]);
      if (rest[0] === ')') {
        if (!closing) throw unexpected(rest);
        return [out, rest.slice(1)];
      }
      if (rest[0] === ',') {
        rest = rest.slice(1);
        if (!rest || rest[0] === ',') throw new FieldsSyntaxError(`unexpected char ',' at position ${position(rest)}`);
      }
      isFirst = false;
    }
    if (closing) throw new FieldsSyntaxError('unexpected end of input (did you miss out a close bracket?)');
    return [out, rest];
  }

  return fields(text, false)[0];
}

/** The fields one endpoint (and, for pages, one page type) exposes. */
export interface FieldSpec {
  /** Top-level fields, in output order (`id` first). */
  body: readonly string[];
  /** Fields under `meta`, in output order. */
  meta: readonly string[];
  /** A listing's fields without `?fields=`. */
  listing: readonly string[];
  /** Fields a listing does not offer at all (Wagtail's `detail_only_fields`, e.g. `parent`). */
  detailOnly?: readonly string[];
  /** Fields a detail view leaves out unless asked (default: it shows every field). */
  detailHidden?: readonly string[];
}

/**
 * Wagtail's `_get_serializer_class` field selection: the selected fields (a Set) for a listing
 * or a detail view and the request's `?fields=`. Throws the 400s Wagtail answers.
 */
export function selectFields(spec: FieldSpec, view: 'listing' | 'detail', raw: string | undefined): Set<string> {
  let config: FieldConfig[] = [];
  if (raw !== undefined) {
    try {
      config = parseFields(raw);
    } catch (error) {
      if (error instanceof FieldsSyntaxError) throw wagtailError(400, `fields error: ${error.message}`);
      throw error;
    }
  }
  const all = [...new Set([...spec.body, ...spec.meta])].filter((f) => view === 'detail' || !spec.detailOnly?.includes(f));
  let fields = new Set(view === 'detail' ? all.filter((f) => !spec.detailHidden?.includes(f)) : spec.listing);
  if (config[0]?.[0] === '*') {
    fields = new Set(all);
    config = config.slice(1);
  } else if (config[0]?.[0] === '_') {
    fields = new Set();
    config = config.slice(1);
  }
  const mentioned = new Set<string>();
  const nested = new Set<string>();
  for (const [name, negated, sub] of config) {
    if (negated) fields.delete(name);
    else {
      fields.add(name);
      if (sub?.length) nested.add(name);
    }
    mentioned.add(name);
  }
  const unknown = [...mentioned].filter((f) => !all.includes(f)).sort();
  if (unknown.length) throw wagtailError(400, `unknown fields: ${unknown.join(', ')}`);
  const [withSubFields] = [...nested];
  if (withSubFields) throw wagtailError(400, `'${withSubFields}' does not support nested fields`);
  return fields;
}

/**
 * One object as Wagtail serialises it: `id`, then `meta` with the selected meta fields, then the
 * selected body fields. `values` are computed only for selected fields; a value `undefined` is
 * left out (a field that does not apply to this object, e.g. an image's width on a document).
 */
export function represent(spec: FieldSpec, selected: ReadonlySet<string>, values: Record<string, () => unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (selected.has('id') && values.id) out.id = values.id();
  const meta: Record<string, unknown> = {};
  for (const name of spec.meta) {
    if (!selected.has(name) || !values[name]) continue;
    const value = values[name]();
    if (value !== undefined) meta[name] = value;
  }
  if (Object.keys(meta).length) out.meta = meta;
  for (const name of spec.body) {
    if (name === 'id' || spec.meta.includes(name) || !selected.has(name) || !values[name]) continue;
    const value = values[name]();
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** Wagtail's listing envelope. */
export const listing = (totalCount: number, items: unknown[]) => ({ meta: { total_count: totalCount }, items });

/** Query parameters every listing accepts besides its own (jQuery's cache buster, DRF's `format`). */
const ALWAYS = ['limit', 'offset', 'fields', 'format', '_'];

/**
 * Wagtail's `check_query_parameters`: a listing's query parameters must be operations or
 * filters it knows. `unsupported` are Wagtail's own parameters this API does not offer, refused
 * with a message that says so rather than as unknown.
 */
export function checkQuery(query: WagtailQuery, known: readonly string[], unsupported: readonly string[] = []) {
  const names = Object.keys(query);
  const refused = names.filter((n) => unsupported.includes(n)).sort();
  if (refused.length) throw wagtailError(400, `not supported by this endpoint: ${refused.join(', ')}`);
  const unknown = names.filter((n) => !known.includes(n) && !ALWAYS.includes(n)).sort();
  if (unknown.length) throw wagtailError(400, `query parameter is not an operation or a recognised field: ${unknown.join(', ')}`);
}

/** Wagtail's `parse_boolean` for a field filter (`?show_in_menus=true`). */
export function parseBoolean(field: string, value: string): boolean {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw wagtailError(400, `field filter error. '${value}' is not a valid value for ${field} (expected 'true' or 'false', got '${value}')`);
}

/**
 * `?type=app.Model[,app.Model]` against the endpoint's types (`wagtailcore.Page` is the base
 * page type, i.e. no filter): the matched types, or 400 `type doesn't exist` (Wagtail's message
 * for an unknown model and for a model of another endpoint alike). App labels are exact, model
 * names case-insensitive (Django's `apps.get_model`).
 */
export function parseTypes(raw: string | undefined, types: readonly string[]): string[] | null {
  if (raw === undefined) return null;
  const found = raw.split(',').map((name) => {
    const [app, model, extra] = name.split('.');
    const match = extra === undefined && model ? types.find((t) => t.split('.')[0] === app && t.split('.')[1]!.toLowerCase() === model.toLowerCase()) : undefined;
    if (!match) throw wagtailError(400, "type doesn't exist");
    return match;
  });
  return [...new Set(found)];
}

export const FIELDS_PARAM: QueryParam = {
  schema: { type: 'string', maxLength: 1000 },
  description: 'Fields to add (`a,b`), remove (`-a`), all (`*`) or only these (`_,a`): Wagtail API v2 syntax.',
};
export const SEARCH_PARAM: QueryParam = { schema: { type: 'string', maxLength: 200 }, description: 'Full-text search' };
