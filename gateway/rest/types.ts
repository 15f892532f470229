import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../../subgraphs/kit/principal.ts';

/** A JSON Schema (2020-12, as OpenAPI 3.1 uses it). Also validates query strings and bodies. */
export type JsonSchema = Record<string, unknown>;

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * How a legacy service spoke, for the errors the shim writes itself:
 * - `drf` (Django REST Framework): bad input 400 `{"field": ["message"]}`, `non_field_errors`.
 * - `fastapi` (FastAPI-Users): bad input 422 `{"detail": [{"loc": [...], "msg", "type"}]}`.
 * Both answer auth, permission, not-found and throttling with `{"detail": "..."}`.
 * - `wagtail` (Wagtail API v2): every error is `{"message": "..."}`, as Wagtail's own handler
 *   answers bad requests and 404s; its routes check their own query strings (Wagtail's messages,
 *   e.g. `limit cannot be higher than 20`), so no query schema is enforced before them.
 * - `superset` (Superset's REST API v1, Flask-AppBuilder): every error is `{"message": ...}`, a
 *   string (`Not found`, `Not authorized`, `Not a valid rison/json argument`) or, for bad input,
 *   marshmallow's messages per field (`{"message": {"queries": ["Missing data for required field."]}}`).
 */
export type Dialect = 'drf' | 'fastapi' | 'wagtail' | 'superset';

/** GraphQL error codes the shim maps to HTTP statuses (errors.ts). */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'RATE_LIMITED'
  | 'SUBGRAPH_UNAVAILABLE';

export interface QueryParam {
  schema: JsonSchema;
  description: string;
}

/** DRF page-number pagination resolved to a Relay window (pagination.ts). */
export interface PageWindow {
  page: number;
  pageSize: number;
  /** Cursor of the row before the page (null: first page). */
  after: string | null;
}

/** Limit/offset pagination (Wagtail's `?limit=&offset=`) resolved to a Relay window (pagination.ts). */
export interface OffsetWindow {
  limit: number;
  offset: number;
  /** Cursor of the row before `offset` (null: from the start). */
  after: string | null;
  /** The offset is at or past the end of the list: the answer has no items. */
  past: boolean;
}

/** What a route's `variables` and `shape` see of the HTTP request. */
export interface RestCall {
  /** Path parameters (`{id}`), URL-decoded. */
  params: Record<string, string>;
  /** Query string; a repeated parameter is an array. */
  query: Record<string, string | string[] | undefined>;
  /** Parsed JSON or form body (undefined when there is none). */
  body: unknown;
  /** The caller as the gateway verified it (anonymous without a valid token). */
  principal: Principal;
  /**
   * Absolute URL of this route with the query string changed: `set` replaces or adds a
   * parameter, `null` removes it, every other parameter is kept (DRF's `replace_query_param`).
   * Honours the request's host and protocol (and forwarded ones when GATEWAY_TRUST_PROXY trusts them).
   */
  link(set: Record<string, string | number | null>): string;
  /** Absolute URL of another shim path (`/wagtail/pages/1/` -> `http://host/api/brain/wagtail/pages/1/`), same host rules. */
  url(path: string): string;
  /**
   * Runs another operation through the same pipeline (same caller, limits, logging). Errors are
   * mapped like the route's own; resolves to `data`.
   */
  graphql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>): Promise<T>;
  /** For `paginate: 'page'` routes: the requested page and the cursor it starts after. */
  page: PageWindow | null;
  /** For `paginate: 'offset'` routes: the requested limit and offset and the cursor they start after. */
  offset: OffsetWindow | null;
}

/**
 * Where a `kind: 'stream'` entry sends the request: a subgraph's own HTTP endpoint (not GraphQL),
 * at the subgraph's URL from the gateway's map with `/graphql` replaced by `path`.
 */
export interface StreamTarget {
  subgraph: string;
  /** Path on the subgraph; `{name}` is the route's path parameter of that name (URL-encoded). */
  path: string;
  /**
   * Request headers sent along besides `authorization` and `x-request-id` (always, like every
   * subgraph fetch): e.g. `content-type` and `content-length` of an upload. Nothing else leaves.
   */
  forward: readonly string[];
  /**
   * `json`: the subgraph answers JSON (read whole, at most 1 MiB): a 2xx goes through the
   * route's `shape`, an error becomes the dialect's error with the subgraph's message.
   * `raw`: a 2xx or 304 answer is streamed back as is (bytes), with the `passBack` headers.
   */
  response: 'json' | 'raw';
  /** Response headers passed back with a `raw` answer (content type, caching headers, ...). */
  passBack?: readonly string[];
  /** OpenAPI: the request body (e.g. multipart/form-data) and a `raw` answer's body. */
  requestBody?: { contentType: string; schema: JsonSchema; description?: string };
  rawResponse?: { contentType: string; description: string };
}

/**
 * One REST route: the legacy HTTP surface on one side, one GraphQL operation on the other.
 * Paths are relative to `/api/brain` and use `{name}` parameters (OpenAPI style); a last
 * `{name*}` is the rest of the path, of any length (a stored media name can be longer than the
 * 100 characters Fastify allows a `{name}`).
 */
export interface RestRoute {
  method: HttpMethod;
  path: string;
  /** OpenAPI operationId; unique in the table. */
  id: string;
  summary: string;
  description?: string;
  /** The legacy service the path belonged to (OpenAPI tag): `auth`, `django-crm`, `saleor`, ... */
  tag: string;
  dialect: Dialect;
  /**
   * `required`: the operation needs a member's token; a call without a valid one is answered 401
   * before its input is validated (as DRF and FastAPI-Users did). `optional`: anonymous callers
   * get a public answer; `none`: credentials travel in the body, or the answer is public to
   * whoever has the URL (media bytes). Also OpenAPI's `security`.
   * The graph still decides who may call what (roles, tenant), exactly as for `/graphql`.
   */
  auth: 'required' | 'optional' | 'none';

  /**
   * `stream` (THE exception to "every path is a GraphQL operation"): the request is streamed to
   * a subgraph's own HTTP endpoint (`target`), e.g. a multipart upload, which Apollo Gateway
   * cannot carry. It still passes the gateway's hooks first (request id, JWT, rate limit, access
   * log), and `auth`, `shape` and `status` apply as for other entries. Default: a GraphQL entry.
   */
  kind?: 'stream';
  /** For `kind: 'stream'`: where the request goes. */
  target?: StreamTarget;

  /** The GraphQL document (one operation). Absent only for `health` and `stream` routes. */
  operation?: string;
  /**
   * The root field whose value `shape` receives. A null value is 404 `{"detail": "Not found."}`;
   * a value with a non-empty `errors` list (a mutation payload) is a 400 with those errors.
   * A list names alternative root fields of which the operation selects exactly one with
   * `@include`/`@skip` (e.g. published pages for anonymous callers, drafts for members): the
   * value is that of the one present in the result.
   */
  root?: string | readonly string[];
  /**
   * Path, query and body -> the operation's variables. Return `null` to skip the operation (the
   * route then answers its success status with `shape(null)`). Throw a RestError for bad input.
   */
  variables?(call: RestCall): Record<string, unknown> | null | Promise<Record<string, unknown> | null>;
  /**
   * The root value (or `data` without `root`) -> the legacy JSON. Default: as is. May be async
   * (e.g. to read the further pages of a list with `call.graphql`).
   */
  shape?(value: any, call: RestCall): unknown;
  /** Success status (default 200); 204 sends no body. */
  status?: number;
  /**
   * The success answer's content type when it is not JSON (`shape` then returns the text), e.g.
   * `image/svg+xml` for a chart's thumbnail. Also the OpenAPI success content.
   */
  contentType?: string;
  /**
   * `page`: DRF page-number pagination (`?page=&page_size=`) over a Relay connection at `root`;
   * the shim adds `$first`/`$after` (the operation must declare them) and fills `call.page`.
   * `offset`: Wagtail's `?limit=&offset=` the same way, filling `call.offset`.
   */
  paginate?: 'page' | 'offset';
  /** Query parameters (validated, documented). Pagination parameters are added for `paginate`. */
  query?: Record<string, QueryParam>;
  /** JSON (and form-encoded) request body; `optional`: a request may have none (it reads as `{}`). */
  body?: { schema: JsonSchema; description?: string; optional?: boolean };
  /** Success response body (OpenAPI only; tests check real responses against it). */
  response?: JsonSchema;
  /**
   * The body field a payload error's input field names (`ownerId` -> `owner`), for 400 bodies.
   * Default: the snake_case of the field's last segment (`deal.stageId` -> `stage_id`).
   */
  errorField?(field: string | null): string | null;
  /**
   * Per-route overrides of the error mapping, e.g. login's bad credentials are a 400 in
   * FastAPI-Users. `NOT_FOUND`'s also words the 404 of a null root value.
   */
  errors?: Partial<Record<ErrorCode, { status: number; detail?: string }>>;

  /** Instead of an operation: answers `{"status": "ok"}` or 503 from this subgraph's `/health`. */
  health?: string;

  /**
   * A route that answers by itself, running its operations through `call.graphql`: the agents'
   * run events, a Server-Sent Events stream (`contentType: 'text/event-stream'`; `reply.sse` is
   * @fastify/sse's, registered by gateway/run-events.ts). `operation` is then what it runs,
   * documented, not run by the shim. A RestError thrown before the first byte is the answer.
   */
  serve?(call: RestCall, request: FastifyRequest, reply: FastifyReply): Promise<void>;
}

/** A named JSON Schema used in responses; openapi.ts lifts these into `components.schemas`. */
export const named = (name: string, schema: JsonSchema): JsonSchema => ({ ...schema, 'x-name': name });

/**
 * The schema as Fastify's Ajv validates it: without `x-name` marks (unknown keywords), and with
 * union types (`["string", "null"]`, which Ajv's strict mode warns about) as Ajv's `nullable`,
 * or left to the route's own conversion when more than one type is allowed.
 */
export function forAjv(schema: unknown): any {
  if (Array.isArray(schema)) return schema.map(forAjv);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'x-name') continue;
    if (key === 'type' && Array.isArray(value)) {
      const types = value.filter((t) => t !== 'null');
      if (types.length === 1) out.type = types[0];
      if (types.length === 1 && value.includes('null')) out.nullable = true;
      continue;
    }
    out[key] = forAjv(value);
  }
  return out;
}
