import type { FastifySchemaValidationError } from 'fastify';
import type { GraphQLFormattedError } from 'graphql';
import { snakeCase } from './case.ts';
import type { Dialect, ErrorCode, RestRoute } from './types.ts';
import { OverloadedError } from '../admission.ts';

/** An HTTP answer in the legacy shape; thrown anywhere in the shim, sent by register.ts. */
export class RestError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    const text = (body as { detail?: unknown; message?: unknown } | null)?.detail ?? (body as { message?: unknown } | null)?.message;
    super(typeof text === 'string' ? text : `HTTP ${status}`);
  }
}

export const detail = (status: number, message: string, headers?: Record<string, string>) =>
  new RestError(status, { detail: message }, headers);

/**
 * An error in the route's dialect. The shim throws DRF-shaped errors (`{"detail"}`, field maps)
 * wherever it is; the `wagtail` dialect answers every one as `{"message": "..."}` (Wagtail API
 * v2's own error body), rewritten here, once, when the error is sent.
 */
export function inDialect(error: RestError, dialect: Dialect): RestError {
  if (dialect === 'superset') return inSuperset(error);
  if (dialect !== 'wagtail') return error;
  const body = error.body as Record<string, unknown> | null;
  if (body && typeof body === 'object' && typeof body.message === 'string') return error;
  let message: string;
  if (body && typeof body === 'object' && typeof body.detail === 'string') message = body.detail;
  else if (body && typeof body === 'object') {
    message = Object.entries(body)
      .map(([field, messages]) => {
        const text = Array.isArray(messages) ? messages.join(' ') : String(messages);
        return field === 'non_field_errors' ? text : `${field}: ${text}`;
      })
      .join('; ');
  } else message = `HTTP ${error.status}`;
  return new RestError(error.status, { message }, error.headers);
}

/**
 * Flask-AppBuilder's answers (Superset's REST API v1): `{"message": "..."}`, 404 always
 * `{"message": "Not found"}`, and bad input as marshmallow's `{"message": {"field": ["..."]}}`
 * (`_schema` for the input as a whole).
 */
function inSuperset(error: RestError): RestError {
  const body = error.body as Record<string, unknown> | null;
  if (error.status === 404) return new RestError(404, { message: 'Not found' }, error.headers);
  if (body && typeof body === 'object' && 'message' in body) return error;
  if (body && typeof body === 'object' && typeof body.detail === 'string') return new RestError(error.status, { message: body.detail }, error.headers);
  if (body && typeof body === 'object') {
    const fields = Object.fromEntries(Object.entries(body).map(([field, messages]) => [field === 'non_field_errors' ? '_schema' : field, messages]));
    return new RestError(error.status, { message: fields }, error.headers);
  }
  return new RestError(error.status, { message: `HTTP ${error.status}` }, error.headers);
}

/** Superset's error: `{"message": "..."}`, or `{"message": {"field": ["..."]}}` for bad input. */
export const supersetError = (status: number, message: string | Record<string, unknown>) => new RestError(status, { message });

/** Wagtail API v2's error: `{"message": "..."}` (e.g. 400 `unknown fields: x`). */
export const wagtailError = (status: number, message: string, headers?: Record<string, string>) =>
  new RestError(status, { message }, headers);

// Django REST Framework's own messages, which legacy clients may match on.
export const NOT_FOUND = 'Not found.';
export const INVALID_PAGE = 'Invalid page.';
export const SERVER_ERROR = 'A server error occurred.';
export const UNAVAILABLE = 'Service temporarily unavailable, try again later.';
export const throttled = (seconds: number) =>
  detail(429, `Request was throttled. Expected available in ${seconds} second${seconds === 1 ? '' : 's'}.`, { 'retry-after': String(seconds) });
/** No (valid) token where one is needed, in the dialect's words. */
export const notAuthenticated = (dialect: Dialect) =>
  dialect === 'superset'
    ? new RestError(401, { message: 'Not authorized' }, { 'www-authenticate': 'Bearer' })
    : detail(401, dialect === 'fastapi' ? 'Unauthorized' : 'Authentication credentials were not provided.', { 'www-authenticate': 'Bearer' });
export const methodNotAllowed = (method: string, allow: string[]) =>
  detail(405, `Method "${method}" not allowed.`, { allow: allow.join(', ') });

/** One field problem; `field` null is about the whole input. */
export interface FieldProblem {
  field: string | null;
  message: string;
  /** FastAPI's error type (`missing`, `string_type`, ...), for the `fastapi` dialect. */
  type?: string;
}

/**
 * Bad input in the route's dialect. DRF: 400 `{"field": ["message", ...]}` with `non_field_errors`
 * for a null field. FastAPI: 422 `{"detail": [{"type", "loc": ["body", field], "msg"}]}`.
 */
export function badInput(dialect: Dialect, problems: FieldProblem[], location = 'body'): RestError {
  if (dialect === 'superset') {
    // marshmallow's wording for a missing field, which Superset's clients see.
    const fields: Record<string, string[]> = {};
    for (const p of problems) (fields[p.field ?? '_schema'] ??= []).push(p.type === 'missing' ? 'Missing data for required field.' : p.message);
    return supersetError(400, fields);
  }
  if (dialect === 'wagtail') {
    return wagtailError(400, problems.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message)).join('; '));
  }
  if (dialect === 'fastapi') {
    return new RestError(422, {
      detail: problems.map((p) => ({
        type: p.type ?? 'value_error',
        loc: p.field ? [location, p.field] : [location],
        msg: (p.type && PYDANTIC[p.type]) ?? p.message,
      })),
    });
  }
  const body: Record<string, string[]> = {};
  for (const p of problems) (body[p.field ?? 'non_field_errors'] ??= []).push(p.message);
  return new RestError(400, body);
}

/** Pydantic v2's wording, for the `fastapi` dialect. */
const PYDANTIC: Record<string, string> = {
  missing: 'Field required',
  string_type: 'Input should be a valid string',
  integer_type: 'Input should be a valid integer',
  number_type: 'Input should be a valid number',
  boolean_type: 'Input should be a valid boolean',
  dict_type: 'Input should be a valid dictionary',
};

/** GraphQL field names in errors (`tenantSlug`, `input.firstName`) -> the REST field (`first_name`). */
export function restField(field: unknown): string | null {
  if (typeof field !== 'string' || !field) return null;
  const last = field.split('.').at(-1)!;
  return last === 'input' ? null : snakeCase(last);
}

/** Mutation payload `errors` (field, message, code) -> 404 for NOT_FOUND, else bad input. */
export function payloadError(
  route: RestRoute,
  errors: { field?: string | null; message: string; code?: string }[],
  rename: (field: string | null) => string | null = restField,
): RestError {
  // Only a missing object of the path is a 404; a missing related object (`ownerId`) is bad input.
  if (errors.some((e) => e.code === 'NOT_FOUND' && (!e.field || e.field === 'id'))) return detail(404, NOT_FOUND);
  if (route.dialect === 'fastapi') return detail(400, errors[0]!.message);
  return badInput(route.dialect, errors.map((e) => ({ field: rename(e.field ?? null), message: e.message })));
}

/** Which of several errors decides the status: the one a client must act on first. */
const PRECEDENCE = [
  'RATE_LIMITED',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'SUBGRAPH_UNAVAILABLE',
  'NOT_FOUND',
  'BAD_USER_INPUT',
  'GRAPHQL_VALIDATION_FAILED',
  'GRAPHQL_PARSE_FAILED',
  'BAD_REQUEST',
];

const DEFAULT_STATUS: Record<ErrorCode, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  BAD_USER_INPUT: 400,
  RATE_LIMITED: 429,
  SUBGRAPH_UNAVAILABLE: 503,
};

/**
 * GraphQL errors (already redacted by the gateway) -> one REST answer. Any error fails the whole
 * call: a REST client has no way to read partial data. `pathParams` are the variables that came
 * from the URL path: a bad one (e.g. a malformed Saleor ID) is a 404, as a bad URL is.
 */
export function graphqlError(route: RestRoute, errors: readonly GraphQLFormattedError[], pathParams: ReadonlySet<string> = new Set()): RestError {
  const codeOf = (e: GraphQLFormattedError) => (typeof e.extensions?.code === 'string' ? e.extensions.code : 'INTERNAL_SERVER_ERROR');
  const rank = (e: GraphQLFormattedError) => {
    const i = PRECEDENCE.indexOf(codeOf(e));
    return i === -1 ? PRECEDENCE.length : i;
  };
  const error = [...errors].sort((a, b) => rank(a) - rank(b))[0]!;
  const code = codeOf(error);
  const override = route.errors?.[code as ErrorCode];
  if (override) return detail(override.status, override.detail ?? error.message);
  switch (code) {
    case 'UNAUTHENTICATED':
      return detail(401, error.message, { 'www-authenticate': 'Bearer' });
    case 'FORBIDDEN':
      return detail(DEFAULT_STATUS.FORBIDDEN, error.message);
    case 'NOT_FOUND':
      return detail(404, NOT_FOUND);
    case 'RATE_LIMITED':
      return throttled(Number(error.extensions?.retryAfter) || 60);
    case 'SUBGRAPH_UNAVAILABLE':
      return detail(503, UNAVAILABLE);
    case 'BAD_USER_INPUT': {
      const field = typeof error.extensions?.field === 'string' ? error.extensions.field : null;
      if (field && pathParams.has(field)) return detail(404, NOT_FOUND);
      const inputErrors = errors.filter((e) => codeOf(e) === 'BAD_USER_INPUT');
      // The graph's messages name their argument already (`"parentId" is not a valid id.`).
      if (route.dialect === 'wagtail') return wagtailError(400, inputErrors.map((e) => e.message).join('; '));
      return badInput(route.dialect, inputErrors.map((e) => ({ field: restField(e.extensions?.field), message: e.message })));
    }
    case 'GRAPHQL_VALIDATION_FAILED':
    case 'GRAPHQL_PARSE_FAILED':
    case 'BAD_REQUEST':
      // Our operations are fixed and tested against the supergraph: this is a query limit
      // (depth, cost, ...) refusing the call, which the caller cannot fix but should see.
      return detail(400, error.message);
    default:
      return detail(500, SERVER_ERROR);
  }
}

// --- Fastify's own errors (body parsing, validation) -------------------------------------------

/** DRF's wording for the JSON Schema keywords our schemas use. */
function drfMessage(error: FastifySchemaValidationError, input: unknown): { field: string | null; message: string; type: string } {
  const params = error.params as Record<string, any>;
  const path = (error.instancePath ?? '').split('/').filter(Boolean);
  let field = path[0] ?? null;
  const value = path.reduce<any>((v, key) => (v && typeof v === 'object' ? v[key] : undefined), input);
  switch (error.keyword) {
    case 'required':
      field = String(params.missingProperty);
      return { field, message: 'This field is required.', type: 'missing' };
    case 'type':
      return {
        field,
        message:
          params.type === 'integer'
            ? 'A valid integer is required.'
            : params.type === 'number'
              ? 'A valid number is required.'
              : params.type === 'boolean'
                ? 'Must be a valid boolean.'
                : params.type === 'string'
                  ? 'Not a valid string.'
                  : params.type === 'object'
                    ? 'Invalid data. Expected a dictionary.'
                    : `Expected ${params.type}.`,
        type: `${params.type}_type`,
      };
    case 'enum':
      return { field, message: `"${String(value)}" is not a valid choice.`, type: 'enum' };
    case 'format':
      return {
        field,
        message: params.format === 'email' ? 'Enter a valid email address.' : params.format === 'date' ? 'Date has wrong format. Use YYYY-MM-DD.' : `Enter a valid ${params.format}.`,
        type: params.format,
      };
    case 'maxLength':
      return { field, message: `Ensure this field has no more than ${params.limit} characters.`, type: 'string_too_long' };
    case 'minLength':
      return { field, message: params.limit === 1 ? 'This field may not be blank.' : `Ensure this field has at least ${params.limit} characters.`, type: 'string_too_short' };
    case 'minimum':
      return { field, message: `Ensure this value is greater than or equal to ${params.limit}.`, type: 'greater_than_equal' };
    case 'maximum':
      return { field, message: `Ensure this value is less than or equal to ${params.limit}.`, type: 'less_than_equal' };
    case 'additionalProperties':
      return { field: String(params.additionalProperty), message: 'Unknown field.', type: 'extra_forbidden' };
    case 'minProperties':
      return { field: null, message: 'No data provided.', type: 'missing' };
    default:
      return { field, message: error.message ?? 'Invalid value.', type: 'value_error' };
  }
}

/** Schema validation of the query string or body (Fastify's Ajv) -> bad input in the dialect. */
export function validationError(dialect: Dialect, errors: FastifySchemaValidationError[], context: string, input: unknown): RestError {
  if (context === 'params') return detail(404, NOT_FOUND);
  const location = context === 'querystring' ? 'query' : 'body';
  if (errors.length === 1 && errors[0]!.keyword === 'type' && !errors[0]!.instancePath) {
    // The body is JSON but not an object (DRF: "Invalid data. Expected a dictionary, but got list.").
    const got = Array.isArray(input) ? 'list' : input === null ? 'null' : typeof input;
    return badInput(dialect, [{ field: null, message: `Invalid data. Expected a dictionary, but got ${got}.`, type: 'dict_type' }], location);
  }
  return badInput(dialect, errors.map((e) => drfMessage(e, input)), location);
}

/**
 * Fastify errors raised before a handler runs (the body) -> the legacy shape. Returns null for
 * errors that are ours to log (a 500).
 */
export function httpError(
  error: Error & { statusCode?: number; code?: string; validation?: FastifySchemaValidationError[]; validationContext?: string },
  dialect: Dialect,
  bodyLimit: number,
  request: { body?: unknown; query?: unknown; headers: Record<string, string | string[] | undefined> },
): RestError | null {
  if (error instanceof RestError) return error;
  if (error.validation) {
    const context = error.validationContext ?? 'body';
    return validationError(dialect, error.validation, context, context === 'querystring' ? request.query : request.body);
  }
  const status = error.statusCode ?? 500;
  if (status === 413) return detail(413, `Request body is larger than ${bodyLimit} bytes.`);
  if (status === 415) return detail(415, `Unsupported media type "${String(request.headers['content-type'] ?? '').split(';')[0]}" in request.`);
  if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError) {
    return detail(400, `JSON parse error - ${error.message}`);
  }
  if (status >= 400 && status < 500) return detail(status, error.message);
  // The gateway's admission control shed the operation: the message is written for clients.
  if (error instanceof OverloadedError) return detail(503, error.message);
  return null;
}
