import { isUuid } from '../../subgraphs/kit/formats.ts';
import { camelCase, snakeCase, upperEnum } from './case.ts';
import { badInput, detail, NOT_FOUND, payloadError, restField } from './errors.ts';
import { drfPage } from './pagination.ts';
import { named, type JsonSchema, type QueryParam, type RestCall, type RestRoute } from './types.ts';
import { single as lastValue } from './query.ts';

/*
 * A Django REST Framework ModelViewSet over one GraphQL type: the six routes a DRF router made
 * (list, create, retrieve, update, partial_update, destroy), each one entry of the route table.
 *
 *   GET    /<path>         list            `<plural>(first, after, filter, sortBy)`    200 {count,next,previous,results}
 *   POST   /<path>         create          `<create>(input)`                           201 object
 *   GET    /<path>/{id}    retrieve        `<singular>(id)`                            200 object / 404
 *   PUT    /<path>/{id}    update          `<update>(id, input)` (required fields)     200 object
 *   PATCH  /<path>/{id}    partial_update  `<update>(id, input)`                       200 object
 *   DELETE /<path>/{id}    destroy         `<delete>(id)`                              204
 *
 * Bodies use the snake_case of the input fields; related objects are their ids under the
 * relation's name (`owner`, `contact`, `stage`: DRF's PrimaryKeyRelatedField), on read and write.
 */

export interface Filter {
  param: QueryParam;
  /** Adds the parameter's value to the GraphQL filter; throws a RestError for a bad value. */
  apply(filter: Record<string, unknown>, value: string): void;
}

export interface DrfResource {
  tag: string;
  /** `/django-crm/leads` */
  path: string;
  /** GraphQL type (`Lead`); its filter, sort and input types follow the CRM naming. */
  type: string;
  /** Root fields: `lead` / `leads`; mutations default to `create<Type>`, `update<Type>`, `delete<Type>`. */
  singular: string;
  plural: string;
  mutations?: { create?: string; update?: string; delete?: string };
  createInput?: string;
  /** The GraphQL selection of one object. */
  fields: string;
  /** One GraphQL object -> the DRF JSON. */
  toRest(node: any): Record<string, unknown>;
  /** Response schema of one object. */
  schema: JsonSchema;
  /** Writable fields (JSON Schema properties) and which of them a create/PUT needs. */
  writable: Record<string, JsonSchema>;
  required: string[];
  /** Body field -> GraphQL input field, when not the camelCase of it (`owner` -> `ownerId`). */
  inputNames?: Record<string, string>;
  /** Fields only a create accepts (`deal.stage`: later moves go through `moveDeal`). */
  createOnly?: string[];
  /** Enum-valued body fields, sent upper case. */
  enums?: string[];
  /** Body value conversions beyond naming (e.g. decimal strings). */
  convert?: Record<string, (value: unknown) => unknown>;
  filters: Record<string, Filter>;
  /** snake_case names of the sort enum's fields for `?ordering=`. */
  ordering: string[];
  /**
   * Replaces the update operation when one PATCH may need more than one mutation (done flags,
   * stage moves); returns the operation and its extra variables from the body.
   */
  update?: {
    operation: (fragment: string, payloadFields: string) => string;
    variables(body: Record<string, unknown>): { input: Record<string, unknown>; extra: Record<string, unknown> };
    /** Which payload of the data answers (the last mutation that ran). */
    pick(data: Record<string, any>): any;
  };
  summaries: { one: string; many: string };
}

const PAYLOAD_ERRORS = 'errors { field message code }';

/** The last value of a query parameter; an empty one is none. */
const single = (value: string | string[] | undefined) => lastValue(value) || undefined;

/** `?ordering=-created_at,name`: the first field the graph can sort by (DRF ignores unknown ones). */
function ordering(raw: string | undefined, allowed: string[]) {
  for (const term of (raw ?? '').split(',')) {
    const name = term.trim().replace(/^-/, '');
    if (allowed.includes(name)) return { field: name.toUpperCase(), direction: term.trim().startsWith('-') ? 'DESC' : 'ASC' };
  }
  return null;
}

/** A mutation payload: its errors as a 400 (404 for NOT_FOUND), its object, or 404 when absent. */
export function fromPayload(route: RestRoute, payload: any, key: string, rename?: (field: string | null) => string | null) {
  if (!payload) throw detail(404, NOT_FOUND);
  if (Array.isArray(payload.errors) && payload.errors.length) throw payloadError(route, payload.errors, rename);
  if (!payload[key]) throw detail(404, NOT_FOUND);
  return payload[key];
}

export function drfResource(r: DrfResource): RestRoute[] {
  const fragmentName = `Rest${r.type}`;
  const fragment = `fragment ${fragmentName} on ${r.type} { ${r.fields} }`;
  const payloadFields = `${r.singular} { ...${fragmentName} } ${PAYLOAD_ERRORS}`;
  const create = r.mutations?.create ?? `create${r.type}`;
  const update = r.mutations?.update ?? `update${r.type}`;
  const remove = r.mutations?.delete ?? `delete${r.type}`;
  const detailPath = `${r.path}/{id}`;
  const schemaName = r.type;
  const object = named(schemaName, r.schema);
  const base = { tag: r.tag, dialect: 'drf' as const, auth: 'required' as const };

  const inputName = (field: string) => r.inputNames?.[field] ?? camelCase(field);
  /** A payload error's input field (`ownerId`, `deal.stageId`) -> the body field (`owner`). */
  const bodyName = (field: string | null) => {
    const rest = restField(field);
    const graphql = field?.split('.').at(-1);
    const renamed = Object.entries(r.inputNames ?? {}).find(([, name]) => name === graphql)?.[0];
    return renamed ?? rest;
  };
  /** A DRF body -> the GraphQL input (names, enums, conversions). */
  const toInput = (body: Record<string, unknown>, mode: 'create' | 'update') => {
    const input: Record<string, unknown> = {};
    const problems = [];
    for (const [field, value] of Object.entries(body)) {
      if (!(field in r.writable)) continue;
      if (mode === 'update' && r.createOnly?.includes(field)) {
        problems.push({ field, message: 'This field cannot be changed here.' });
        continue;
      }
      let converted = r.enums?.includes(field) ? upperEnum(value) : value;
      if (r.convert?.[field] && converted !== null) converted = r.convert[field]!(converted);
      input[inputName(field)] = converted;
    }
    if (problems.length) throw badInput('drf', problems);
    return input;
  };
  const body = (call: RestCall) => (call.body ?? {}) as Record<string, unknown>;
  /** drf-spectacular's names: `LeadRequest` (create, PUT) and `PatchedLeadRequest` (PATCH). */
  const bodySchema = (required: string[]): { schema: JsonSchema } => ({
    schema: named(required.length ? `${r.type}Request` : `Patched${r.type}Request`, {
      type: 'object',
      properties: r.writable,
      ...(required.length ? { required } : {}),
      additionalProperties: false,
    }),
  });
  const oneRest = (node: any) => r.toRest(node);

  const list: RestRoute = {
    ...base,
    method: 'GET',
    path: r.path,
    id: `${r.plural}List`,
    summary: `List ${r.summaries.many}`,
    description: `DRF page-number pagination; \`?ordering=\` one of ${r.ordering.map((o) => `\`${o}\``).join(', ')} (\`-\` for descending).`,
    operation: `query Rest${r.type}List($first: Int!, $after: String, $filter: ${r.type}Filter, $sortBy: ${r.type}Sort) {
      ${r.plural}(first: $first, after: $after, filter: $filter, sortBy: $sortBy) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { ...${fragmentName} } }
      }
    }
    ${fragment}`,
    root: r.plural,
    paginate: 'page',
    query: {
      ...Object.fromEntries(Object.entries(r.filters).map(([name, f]) => [name, f.param])),
      ordering: { schema: { type: 'string', maxLength: 100 }, description: 'Sort field, `-` prefix for descending' },
    },
    variables: (call) => {
      const filter: Record<string, unknown> = {};
      for (const [name, f] of Object.entries(r.filters)) {
        const value = single(call.query[name]);
        if (value !== undefined) f.apply(filter, value);
      }
      return { filter: Object.keys(filter).length ? filter : null, sortBy: ordering(single(call.query.ordering), r.ordering) };
    },
    shape: (connection, call) => drfPage(connection, call, oneRest),
    response: named(`Paginated${r.type}List`, {
      type: 'object',
      properties: {
        count: { type: 'integer' },
        next: { type: ['string', 'null'], format: 'uri' },
        previous: { type: ['string', 'null'], format: 'uri' },
        results: { type: 'array', items: object },
      },
      required: ['count', 'next', 'previous', 'results'],
    }),
  };

  const createRoute: RestRoute = {
    ...base,
    method: 'POST',
    path: r.path,
    id: `${r.plural}Create`,
    summary: `Create ${r.summaries.one}`,
    operation: `mutation Rest${r.type}Create($input: ${r.createInput ?? `${r.type}CreateInput`}!) {
      ${create}(input: $input) { ${payloadFields} }
    }
    ${fragment}`,
    root: create,
    errorField: bodyName,
    body: bodySchema(r.required),
    variables: (call) => ({ input: toInput(body(call), 'create') }),
    shape: (payload) => oneRest(fromPayload(createRoute, payload, r.singular, bodyName)),
    status: 201,
    response: object,
  };

  const retrieve: RestRoute = {
    ...base,
    method: 'GET',
    path: detailPath,
    id: `${r.plural}Retrieve`,
    summary: `One ${r.summaries.one}`,
    operation: `query Rest${r.type}($id: ID!) { ${r.singular}(id: $id) { ...${fragmentName} } }
    ${fragment}`,
    root: r.singular,
    variables: (call) => ({ id: call.params.id }),
    shape: oneRest,
    response: object,
  };

  const updateRoute = (method: 'PUT' | 'PATCH'): RestRoute => {
    const route: RestRoute = {
      ...base,
      method,
      path: detailPath,
      id: `${r.plural}${method === 'PUT' ? 'Update' : 'PartialUpdate'}`,
      summary: method === 'PUT' ? `Update ${r.summaries.one} (required fields must be sent)` : `Update some fields of ${r.summaries.one}`,
      operation: r.update
        ? r.update.operation(fragment, payloadFields)
        : `mutation Rest${r.type}Update($id: ID!, $input: ${r.type}UpdateInput!) {
            ${update}(id: $id, input: $input) { ${payloadFields} }
          }
          ${fragment}`,
      body: bodySchema(method === 'PUT' ? r.required : []),
      errorField: bodyName,
      variables: (call) => {
        if (!r.update) return { id: call.params.id, input: toInput(body(call), 'update') };
        const { input, extra } = r.update.variables(body(call));
        return { id: call.params.id, input: toInput(input, 'update'), ...extra };
      },
      shape: (data) => oneRest(fromPayload(route, r.update ? r.update.pick(data) : data[update], r.singular, bodyName)),
      response: object,
    };
    return route;
  };

  const destroy: RestRoute = {
    ...base,
    method: 'DELETE',
    path: detailPath,
    id: `${r.plural}Destroy`,
    summary: `Delete ${r.summaries.one}`,
    operation: `mutation Rest${r.type}Delete($id: ID!) { ${remove}(id: $id) { deletedId ${PAYLOAD_ERRORS} } }`,
    root: remove,
    variables: (call) => ({ id: call.params.id }),
    shape: (payload) => fromPayload(destroy, payload, 'deletedId') && null,
    status: 204,
  };

  return [list, createRoute, retrieve, updateRoute('PUT'), updateRoute('PATCH'), destroy];
}

// --- Building blocks for resources ------------------------------------------------------------

/** A related object `{ id }` -> its id (or null). */
export const idOf = (value: { id: string } | null | undefined) => value?.id ?? null;

/** `?status=new,contacted` -> the GraphQL enum list; a value not in `choices` is a 400 (django-filter's message). */
export function choiceList(choices: readonly string[], apply: (filter: Record<string, unknown>, values: string[]) => void, param: string): Filter['apply'] {
  return (filter, raw) => {
    const values = raw.split(',').map((v) => v.trim().toLowerCase()).filter(Boolean);
    const bad = values.find((v) => !choices.includes(v));
    if (bad) throw badInput('drf', [{ field: param, message: `Select a valid choice. ${bad} is not one of the available choices.` }]);
    apply(filter, values);
  };
}

/** A UUID filter parameter (`?owner=`): anything else is a 400 rather than an empty list. */
export function uuidFilter(param: string, graphqlField: string, description: string): Filter {
  return {
    param: { schema: { type: 'string', format: 'uuid' }, description },
    apply: (filter, value) => {
      if (!isUuid(value)) {
        throw badInput('drf', [{ field: param, message: `"${value}" is not a valid UUID.` }]);
      }
      filter[graphqlField] = value;
    },
  };
}

export const searchFilter = (what: string): Filter => ({
  param: { schema: { type: 'string', maxLength: 200 }, description: `Full-text search over ${what}` },
  apply: (filter, value) => {
    if (value.trim()) filter.search = value;
  },
});

export const snakeFields = (names: string[]) => names.map(snakeCase);
