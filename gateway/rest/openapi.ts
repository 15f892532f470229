import { OFFSET_PARAMS, PAGE_PARAMS } from './pagination.ts';
import type { JsonSchema, RestRoute } from './types.ts';

/*
 * The OpenAPI 3.1 document of the shim, generated from the route table (never edited by hand):
 * paths, parameters, bodies and success responses come from the entries, the error responses
 * from each entry's dialect, and each operation carries its GraphQL operation as
 * `x-graphql-operation` so a reader sees what a path runs. Stream entries (the one exception to
 * "a path runs an operation") carry `x-stream-to` (subgraph and path) instead, with their
 * multipart request body and binary answers.
 */

const DETAIL: JsonSchema = {
  type: 'object',
  properties: { detail: { type: 'string' } },
  required: ['detail'],
  description: 'An error with a human-readable `detail`.',
};
const MESSAGE: JsonSchema = {
  type: 'object',
  properties: { message: { type: 'string' } },
  required: ['message'],
  description: 'A Wagtail API error: `{"message": "..."}`.',
  examples: [{ message: 'unknown fields: x' }],
};
const SUPERSET_MESSAGE: JsonSchema = {
  type: 'object',
  properties: {
    message: {
      type: ['string', 'object'],
      description: 'A sentence, or for bad input the messages per field (marshmallow: `_schema` for the input as a whole).',
    },
  },
  required: ['message'],
  description: 'A Superset (Flask-AppBuilder) error: `{"message": "..."}` or `{"message": {"field": ["..."]}}`.',
  examples: [{ message: 'Not a valid rison/json argument' }, { message: { queries: ['Missing data for required field.'] } }],
};
const DRF_VALIDATION: JsonSchema = {
  type: 'object',
  additionalProperties: { type: 'array', items: { type: 'string' } },
  description: 'Bad input: messages per field; `non_field_errors` for the input as a whole.',
  examples: [{ email: ['Enter a valid email address.'] }],
};
const FASTAPI_VALIDATION: JsonSchema = {
  type: 'object',
  properties: {
    detail: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          loc: { type: 'array', items: { type: ['string', 'integer'] } },
          msg: { type: 'string' },
          type: { type: 'string' },
        },
        required: ['loc', 'msg', 'type'],
      },
    },
  },
  required: ['detail'],
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: JsonSchema) => ({ 'application/json': { schema } });
const errorResponse = (description: string, schema = ref('Detail')) => ({ description, content: json(schema) });

/** Replaces every schema marked with `x-name` (types.ts `named`) by a `$ref`, collecting it. */
function lift(schema: unknown, components: Record<string, JsonSchema>): any {
  if (Array.isArray(schema)) return schema.map((s) => lift(s, components));
  if (!schema || typeof schema !== 'object') return schema;
  const { 'x-name': name, ...rest } = schema as Record<string, unknown>;
  const lifted = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, lift(v, components)]));
  if (typeof name !== 'string') return lifted;
  const existing = components[name];
  if (existing && JSON.stringify(existing) !== JSON.stringify(lifted)) throw new Error(`openapi: two different schemas named ${name}`);
  components[name] = lifted;
  return ref(name);
}

function errorResponses(route: RestRoute) {
  const responses: Record<string, unknown> = {};
  const hasInput = Boolean(route.body || route.query || route.paginate || route.target?.requestBody);
  if (route.dialect === 'wagtail') {
    const message = ref('Message');
    if (hasInput) responses['400'] = errorResponse('Bad request (unknown field or parameter, bad limit, ...)', message);
    if (route.auth !== 'none') responses['401'] = errorResponse('Not authenticated', message);
    if (route.auth !== 'none') responses['403'] = errorResponse('Not allowed for your role', message);
    if (/\{\w+\*?\}/.test(route.path)) responses['404'] = errorResponse('Not found', message);
    if (route.target?.requestBody) {
      responses['413'] = errorResponse('The file is larger than the limit (MEDIA_MAX_BYTES)', message);
      responses['415'] = errorResponse('Not an accepted type of file (detected from the bytes)', message);
    }
    responses['429'] = errorResponse('Rate limited (see Retry-After)', message);
    responses['503'] = errorResponse('A service behind the gateway is unavailable, or the gateway is overloaded (see Retry-After)', message);
    return responses;
  }
  if (route.dialect === 'superset') {
    const message = ref('SupersetMessage');
    if (hasInput) responses['400'] = errorResponse('Bad request (a bad `q`, a bad query, SQL of any kind)', message);
    if (route.auth !== 'none') responses['401'] = errorResponse('Not authorized (no valid token)', message);
    if (route.auth !== 'none') responses['403'] = errorResponse('Not allowed for your role', message);
    if (/\{\w+\*?\}/.test(route.path)) responses['404'] = errorResponse('Not found', message);
    responses['429'] = errorResponse('Rate limited (see Retry-After)', message);
    responses['503'] = errorResponse('A service behind the gateway is unavailable, or the gateway is overloaded (see Retry-After)', message);
    return responses;
  }
  if (route.dialect === 'drf') {
    if (hasInput || route.method !== 'GET') responses['400'] = errorResponse('Bad input', ref('ValidationError'));
  } else {
    if (route.errors?.UNAUTHENTICATED?.status === 400 || hasInput) responses['400'] = errorResponse('Bad request');
    if (route.body) responses['422'] = errorResponse('Bad input', ref('HTTPValidationError'));
  }
  if (route.auth !== 'none' || route.errors?.UNAUTHENTICATED?.status === 401) responses['401'] = errorResponse('Not authenticated');
  if (route.auth !== 'none') responses['403'] = errorResponse('Not allowed for your role');
  if (/\{\w+\*?\}/.test(route.path) || route.paginate === 'page') responses['404'] = errorResponse(route.paginate === 'page' ? 'Invalid page' : 'Not found');
  responses['429'] = errorResponse('Rate limited (see Retry-After)');
  responses['503'] = errorResponse('A service behind the gateway is unavailable, or the gateway is overloaded (see Retry-After)');
  return responses;
}

function parameters(route: RestRoute) {
  const path = [...route.path.matchAll(/\{(\w+)\*?\}/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  const paging = route.paginate === 'page' ? PAGE_PARAMS : route.paginate === 'offset' ? OFFSET_PARAMS : {};
  const query = Object.entries({ ...route.query, ...paging }).map(([name, p]) => ({
    name,
    in: 'query',
    required: false,
    description: p.description,
    schema: p.schema,
  }));
  return [...path, ...query];
}

function operation(route: RestRoute, components: Record<string, JsonSchema>) {
  const status = String(route.status ?? 200);
  const raw = route.target?.rawResponse;
  const success =
    status === '204'
      ? { description: 'Done (no content)' }
      : raw
        ? { description: raw.description, content: { [raw.contentType]: { schema: { type: 'string', format: 'binary' } } } }
        : route.contentType
          ? { description: 'OK', content: { [route.contentType]: { schema: route.response ? lift(route.response, components) : { type: 'string' } } } }
          : { description: 'OK', ...(route.response ? { content: json(lift(route.response, components)) } : {}) };
  const streamed = route.target?.requestBody;
  const params = parameters(route);
  return {
    operationId: route.id,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [route.tag],
    ...(params.length ? { parameters: params } : {}),
    ...(streamed
      ? {
          requestBody: {
            required: true,
            ...(streamed.description ? { description: streamed.description } : {}),
            content: { [streamed.contentType]: { schema: lift(streamed.schema, components) } },
          },
        }
      : {}),
    ...(route.body
      ? {
          requestBody: {
            required: route.method !== 'PATCH' && !route.body.optional,
            ...(route.body.description ? { description: route.body.description } : {}),
            content: {
              'application/json': { schema: lift(route.body.schema, components) },
              'application/x-www-form-urlencoded': { schema: lift(route.body.schema, components) },
            },
          },
        }
      : {}),
    responses: {
      [status]: success,
      ...(raw ? { '304': { description: 'Not modified (the `If-None-Match` ETag matches)' } } : {}),
      ...errorResponses(route),
    },
    // `required`: a token; `optional`: a token or none (public data); `none`: no token needed.
    security: route.auth === 'required' ? [{ bearerAuth: [] }] : route.auth === 'optional' ? [{ bearerAuth: [] }, {}] : [],
    ...(route.operation ? { 'x-graphql-operation': route.operation.trim() } : {}),
    ...(route.health ? { 'x-health-of': route.health } : {}),
    ...(route.target ? { 'x-stream-to': { subgraph: route.target.subgraph, path: route.target.path } } : {}),
  };
}

/** A route's path as OpenAPI writes it: `{name*}` (the rest of the path) is one parameter, `{name}`. */
export const openApiPath = (path: string) => path.replace(/\*\}$/, '}');

export function openApiDocument(routes: readonly RestRoute[], prefix: string) {
  const components: Record<string, JsonSchema> = {
    Detail: DETAIL,
    Message: MESSAGE,
    SupersetMessage: SUPERSET_MESSAGE,
    ValidationError: DRF_VALIDATION,
    HTTPValidationError: FASTAPI_VALIDATION,
  };
  const paths: Record<string, Record<string, unknown>> = {};
  const ids = new Set<string>();
  for (const route of routes) {
    if (ids.has(route.id)) throw new Error(`openapi: duplicate operation id ${route.id}`);
    ids.add(route.id);
    (paths[`${prefix}${openApiPath(route.path)}`] ??= {})[route.method.toLowerCase()] = operation(route, components);
  }
  paths[`${prefix}/openapi.json`] = {
    get: {
      operationId: 'openapi',
      summary: 'This document',
      tags: ['meta'],
      security: [],
      responses: { '200': { description: 'OpenAPI 3.1 document', content: json({ type: 'object' }) } },
    },
  };
  const tags = [...new Set(routes.map((r) => r.tag)), 'meta'].map((name) => ({ name }));
  return {
    openapi: '3.1.0',
    info: {
      title: 'BizOSaaS legacy REST API',
      version: '1.0.0',
      description:
        'The Central Hub paths (`/api/brain/*`), served by the GraphQL gateway: every path runs one GraphQL operation ' +
        '(see `x-graphql-operation`) with the same authentication, limits and rate limits as `/graphql`. ' +
        'The one exception are media uploads and downloads (`x-stream-to`), which GraphQL cannot carry: they are ' +
        'streamed to the CMS after the same authentication and rate limits. Generated from gateway/rest/routes.ts.',
    },
    tags,
    paths,
    components: {
      schemas: components,
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'The access token from `POST /api/brain/auth/login`.' } },
    },
  };
}
