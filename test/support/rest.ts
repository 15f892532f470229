import { expect } from 'vitest';

/** A REST answer: status, headers, and the JSON body (null when empty). */
export interface RestAnswer {
  status: number;
  headers: Headers;
  body: any;
}

/**
 * One request to the REST shim (or the CMS's own upload route): a JSON, form or raw body, a
 * bearer token; the answer's body parsed as JSON.
 */
export async function rest(
  url: string,
  options: { method?: string; json?: unknown; form?: Record<string, string>; body?: string | FormData; token?: string; headers?: Record<string, string> } = {},
): Promise<RestAnswer> {
  const headers: Record<string, string> = {};
  let body = options.body;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  if (options.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(options.form).toString();
  }
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(url, { method: options.method ?? 'GET', headers: { ...headers, ...options.headers }, body });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
}

// --- Real answers against the shim's OpenAPI document -------------------------------------------

/** The operation `operationId` of an OpenAPI document. */
export function openApiOperation(document: any, operationId: string): any {
  for (const methods of Object.values<any>(document.paths)) {
    for (const op of Object.values<any>(methods)) if (op.operationId === operationId) return op;
  }
  throw new Error(`no operation ${operationId}`);
}

/**
 * What in `value` disagrees with `schema`, in the subset of JSON Schema the route table uses:
 * type (unions), properties (none undocumented), required, items, enum, const, and $ref into the
 * document's components.
 */
export function conforms(document: any, schema: any, value: unknown, path = '$'): string[] {
  if (schema.$ref) return conforms(document, document.components.schemas[schema.$ref.split('/').at(-1)], value, path);
  const problems: string[] = [];
  const types: string[] = schema.type ? [schema.type].flat() : [];
  const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v);
  if (types.length && !types.some((t) => t === typeOf(value) || (t === 'number' && typeOf(value) === 'integer'))) {
    return [`${path}: ${typeOf(value)} is not ${types.join('|')}`];
  }
  if (schema.enum && !schema.enum.includes(value)) problems.push(`${path}: ${String(value)} not in enum`);
  if ('const' in schema && schema.const !== value) problems.push(`${path}: not ${schema.const}`);
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const name of schema.required ?? []) if (!(name in value)) problems.push(`${path}.${name}: missing`);
    for (const [name, sub] of Object.entries(schema.properties ?? {})) {
      if (name in value) problems.push(...conforms(document, sub, (value as any)[name], `${path}.${name}`));
    }
    if (schema.properties && schema.additionalProperties === undefined) {
      for (const name of Object.keys(value)) if (!(name in schema.properties)) problems.push(`${path}.${name}: not documented`);
    }
  }
  if (Array.isArray(value) && schema.items) value.forEach((item, i) => problems.push(...conforms(document, schema.items, item, `${path}[${i}]`)));
  return problems;
}

/** Fails unless `body` is what the document says `operationId` answers with `status` (JSON). */
export function expectDocumented(document: any, operationId: string, body: unknown, status = '200') {
  const schema = openApiOperation(document, operationId).responses[status].content['application/json'].schema;
  expect(conforms(document, schema, body)).toEqual([]);
}
