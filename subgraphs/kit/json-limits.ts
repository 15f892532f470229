import type { ApolloServerPlugin } from '@apollo/server';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GraphQLError } from 'graphql';
import type { Config } from './config.ts';

/*
 * Bounds on what a request's JSON may make the process do (issue 15, item 3): a body of a few
 * hundred KiB that nests 400,000 arrays deep cost JSON.parse ~120 ms of CPU and hundreds of MiB,
 * and a recursive step after it (the response cache's key, graphql-js's coercion) overflowed the
 * stack. The gateway and every subgraph (kit/server.ts) check in two places, both before any work
 * that grows with the input:
 *
 *  1. The raw bytes of every JSON body (and of a GET's `variables` / `extensions` parameters) are
 *     scanned once, before JSON.parse: nesting depth and items per array or object. The scan stops
 *     at the first byte past a limit, so a bomb costs what its first few bytes cost.
 *  2. A GraphQL operation's variables, before Apollo coerces them or a plugin keys a cache on them
 *     (`variableLimits`, an Apollo plugin, so the REST shim's operations are checked too): how many
 *     variables, string lengths, and again depth and items (variables built by code never saw 1).
 */

/** Nesting and width of any JSON the process accepts (JSON_MAX_DEPTH, JSON_MAX_ITEMS). */
export interface JsonLimits {
  /** Arrays and objects inside one another; the top-level value is level 1. */
  maxDepth: number;
  /** Elements of one array, or members of one object. */
  maxItems: number;
}

/** What a GraphQL operation's variables may hold (MAX_VARIABLES, MAX_VARIABLE_STRING_LENGTH). */
export interface VariableLimits extends JsonLimits {
  /** Names in `variables`. */
  maxVariables: number;
  /** UTF-16 code units of one string anywhere in the variables. */
  maxStringLength: number;
}

export const jsonLimitsOf = (config: Pick<Config, 'JSON_MAX_DEPTH' | 'JSON_MAX_ITEMS'>): JsonLimits => ({
  maxDepth: config.JSON_MAX_DEPTH,
  maxItems: config.JSON_MAX_ITEMS,
});

export const variableLimitsOf = (
  config: Pick<Config, 'JSON_MAX_DEPTH' | 'JSON_MAX_ITEMS' | 'MAX_VARIABLES' | 'MAX_VARIABLE_STRING_LENGTH'>,
): VariableLimits => ({
  ...jsonLimitsOf(config),
  maxVariables: config.MAX_VARIABLES,
  maxStringLength: config.MAX_VARIABLE_STRING_LENGTH,
});

/** Which limit a JSON text went past, and the byte offset where the scan stopped. */
export interface JsonLimitExceeded {
  limit: 'depth' | 'items';
  max: number;
  offset: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * One pass over the UTF-8 bytes of a JSON text, before it is parsed: the first place where it
 * nests deeper than `maxDepth` or puts more than `maxItems` elements in one array or members in
 * one object, or null. Strings are skipped whole (an escaped quote does not end one), so brackets
 * and commas inside strings do not count. It does not validate: whatever it lets through,
 * JSON.parse still judges, and any nesting JSON.parse would build, this scan has seen first (both
 * read the same valid prefix the same way). Linear in the bytes read, and it stops at the first
 * byte past a limit. Multi-byte UTF-8 sequences never contain these ASCII bytes.
 */
export function scanJson(bytes: Uint8Array, limits: JsonLimits): JsonLimitExceeded | null {
  const { maxDepth, maxItems } = limits;
  // Commas seen so far in the open array or object at each depth (items = commas + 1).
  const commas = new Uint32Array(maxDepth + 1);
  const view = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.length;
  let depth = 0;
  for (let i = 0; i < length; i++) {
    const byte = view[i]!;
    if (byte === QUOTE) {
      // To the closing quote: the next quote not escaped by an odd run of backslashes before it.
      let end = view.indexOf(QUOTE, i + 1);
      while (end !== -1) {
        let slashes = 0;
        for (let j = end - 1; view[j] === BACKSLASH; j--) slashes++;
        if ((slashes & 1) === 0) break;
        end = view.indexOf(QUOTE, end + 1);
      }
      if (end === -1) return null; // an unterminated string: JSON.parse refuses it
      i = end;
    } else if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) {
      if (++depth > maxDepth) return { limit: 'depth', max: maxDepth, offset: i };
      commas[depth] = 0;
    } else if (byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) {
      if (depth > 0) depth--;
    } else if (byte === COMMA && depth > 0) {
      if (++commas[depth]! >= maxItems) return { limit: 'items', max: maxItems, offset: i };
    }
  }
  return null;
}

/** `scanJson` of a string (a GET parameter): its UTF-8 bytes. */
export const scanJsonText = (text: string, limits: JsonLimits) => scanJson(Buffer.from(text, 'utf8'), limits);

/** A client's JSON past a limit: 400, with a message written for the client. */
export class JsonLimitError extends Error {
  readonly statusCode = 400;
  readonly code = 'JSON_LIMIT_EXCEEDED';
}

/** "The request body nests deeper than 32 levels." and the like. */
export function describeJsonLimit(what: string, exceeded: JsonLimitExceeded): string {
  return exceeded.limit === 'depth'
    ? `${what} nests deeper than ${exceeded.max} levels.`
    : `${what} has an array or object of more than ${exceeded.max} items.`;
}

const isBlank = (bytes: Buffer) => {
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) return false;
  }
  return true;
};

/**
 * Replaces `app`'s application/json body parser (in its scope) by Fastify's own (prototype
 * poisoning refused, as configured) behind `scanJson`: a body past a limit fails with a
 * JsonLimitError (400) before JSON.parse. `emptyIsNoBody`: a blank body parses as undefined
 * instead of failing (the REST shim: DELETE and logout clients send the header anyway).
 */
export function useBoundedJsonParser(app: FastifyInstance, limits: JsonLimits, options: { emptyIsNoBody?: boolean } = {}) {
  const { onProtoPoisoning = 'error', onConstructorPoisoning = 'error' } = app.initialConfig;
  const json = app.getDefaultJsonParser(onProtoPoisoning, onConstructorPoisoning);
  if (app.hasContentTypeParser('application/json')) app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    if (options.emptyIsNoBody && isBlank(bytes)) return done(null, undefined);
    const exceeded = scanJson(bytes, limits);
    if (exceeded) return done(new JsonLimitError(describeJsonLimit('The request body', exceeded)), undefined);
    json(request, bytes.toString('utf8'), done);
  });
}

const HASH = 0x23;
const NEWLINE = 0x0a;
const RETURN = 0x0d;
const OPEN_PAREN = 0x28;
const CLOSE_PAREN = 0x29;
const BLOCK_QUOTE = '"""';

/** Where a `"` string starting at `start` (after its quote) ends: its closing quote, a line break, or the end. */
function endOfString(source: string, start: number): number {
  for (let i = start; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (c === BACKSLASH) i++;
    else if (c === QUOTE || c === NEWLINE || c === RETURN) return i;
  }
  return source.length;
}

/**
 * Nesting of `{`, `(` and `[` in a GraphQL document, scanned before it is parsed (graphql-js
 * parses recursively: some thousands of levels overflow the stack, which a subgraph, without the
 * gateway's token limit, reached). Comments, strings and block strings are skipped as the lexer
 * reads them, so any nesting the parser would build, this scan has seen first. The offset of the
 * first bracket past `maxNesting`, or -1.
 */
export function scanDocument(source: string, maxNesting: number): number {
  let depth = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (c === HASH) {
      // A comment runs to the end of its line.
      while (i < source.length && source.charCodeAt(i) !== NEWLINE && source.charCodeAt(i) !== RETURN) i++;
    } else if (c === QUOTE) {
      if (source.startsWith(BLOCK_QUOTE, i)) {
        // A block string ends at the first """ not escaped as \""" (its only escape).
        let end = source.indexOf(BLOCK_QUOTE, i + 3);
        while (end !== -1 && source.charCodeAt(end - 1) === BACKSLASH) end = source.indexOf(BLOCK_QUOTE, end + 1);
        if (end === -1) return -1; // unterminated: the parser refuses it
        i = end + 2;
      } else {
        i = endOfString(source, i + 1);
      }
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY || c === OPEN_PAREN) {
      if (++depth > maxNesting) return i;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY || c === CLOSE_PAREN) {
      if (depth > 0) depth--;
    }
  }
  return -1;
}

/** What a GraphQL request's document and GET parameters may hold (the JSON limits, GRAPHQL_MAX_NESTING). */
export interface GraphQLRequestLimits extends JsonLimits {
  /** Brackets nested in the document. */
  maxNesting: number;
}

export const graphqlRequestLimitsOf = (config: Pick<Config, 'JSON_MAX_DEPTH' | 'JSON_MAX_ITEMS' | 'GRAPHQL_MAX_NESTING'>): GraphQLRequestLimits => ({
  ...jsonLimitsOf(config),
  maxNesting: config.GRAPHQL_MAX_NESTING,
});

/** The GraphQL-over-HTTP GET parameters that carry JSON (Apollo Server parses them itself). */
const JSON_PARAMS = ['variables', 'extensions'] as const;

const stringsOf = (value: unknown): string[] => (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');

/**
 * A route hook for /graphql (preValidation: the body is parsed, Apollo Server has not started):
 * the document (a POST body's `query`, a GET's `query` parameter) nests at most `maxNesting`
 * brackets, and a GET's `variables` and `extensions` get the same scan as a JSON body. (The URL
 * itself is bounded by Node's header size limit, 16 KiB.)
 */
export function graphqlRequestHook(limits: GraphQLRequestLimits) {
  const checkDocument = (source: string) => {
    if (scanDocument(source, limits.maxNesting) !== -1) {
      throw new JsonLimitError(`The query nests brackets deeper than ${limits.maxNesting} levels.`);
    }
  };
  return async (request: FastifyRequest) => {
    if (request.method === 'GET') {
      const query = request.query as Record<string, unknown> | undefined;
      if (!query) return;
      for (const name of JSON_PARAMS) {
        for (const text of stringsOf(query[name])) {
          const exceeded = scanJsonText(text, limits);
          if (exceeded) throw new JsonLimitError(describeJsonLimit(`The ${name} parameter`, exceeded));
        }
      }
      stringsOf(query.query).forEach(checkDocument);
    } else if (request.method === 'POST') {
      const body = request.body as { query?: unknown } | null | undefined;
      if (body && typeof body === 'object' && !Array.isArray(body) && typeof body.query === 'string') checkDocument(body.query);
    }
  };
}

/**
 * The first limit a parsed value goes past, as a client message, or null. Recursion stops one
 * level past `maxDepth`, so it never runs deep; it stops at the first problem.
 */
function valueProblem(value: unknown, limits: JsonLimits & { maxStringLength?: number }, path: string, depth: number): string | null {
  if (typeof value === 'string') {
    const max = limits.maxStringLength;
    return max !== undefined && value.length > max ? `${path} is longer than ${max} characters.` : null;
  }
  if (value === null || typeof value !== 'object') return null;
  if (depth > limits.maxDepth) return `${path} nests deeper than ${limits.maxDepth} levels.`;
  if (Array.isArray(value)) {
    if (value.length > limits.maxItems) return `${path} is a list of more than ${limits.maxItems} items.`;
    for (let i = 0; i < value.length; i++) {
      const problem = valueProblem(value[i], limits, path, depth + 1);
      if (problem) return problem;
    }
    return null;
  }
  const keys = Object.keys(value);
  if (keys.length > limits.maxItems) return `${path} is an object of more than ${limits.maxItems} fields.`;
  for (const key of keys) {
    const problem = valueProblem((value as Record<string, unknown>)[key], limits, path, depth + 1);
    if (problem) return problem;
  }
  return null;
}

/** A multipart field as @fastify/multipart gives it. */
interface MultipartField {
  type?: string;
  mimetype?: string;
  value?: unknown;
}

/**
 * For multipart uploads: @fastify/multipart parses a field sent as application/json (within its
 * `fieldSize`), so such a field gets the depth and width limits of a JSON body here, before
 * anything reads it. The first problem as a client message, or null.
 */
export function multipartJsonFieldsProblem(fields: Record<string, unknown>, limits: JsonLimits): string | null {
  for (const [name, entries] of Object.entries(fields)) {
    for (const entry of (Array.isArray(entries) ? entries : [entries]) as (MultipartField | undefined)[]) {
      if (entry?.type !== 'field' || !entry.mimetype?.startsWith('application/json')) continue;
      const problem = valueProblem(entry.value, limits, `Field "${name.slice(0, 64)}"`, 1);
      if (problem) return problem;
    }
  }
  return null;
}

/** The first limit `variables` goes past, as a client message, or null. */
export function variablesProblem(variables: unknown, limits: VariableLimits): string | null {
  if (variables === null || typeof variables !== 'object' || Array.isArray(variables)) return null; // Apollo refuses those
  const names = Object.keys(variables);
  if (names.length > limits.maxVariables) return `An operation takes at most ${limits.maxVariables} variables.`;
  for (const name of names) {
    // Variable names are short in any valid operation; a long one is echoed cut.
    const label = `Variable "$${name.length > 64 ? `${name.slice(0, 64)}…` : name}"`;
    const problem = valueProblem((variables as Record<string, unknown>)[name], limits, label, 2);
    if (problem) return problem;
  }
  return null;
}

/**
 * Apollo Server plugin: an operation whose variables go past a limit fails with a 400
 * BAD_USER_INPUT before its variables are coerced, cached on or sent anywhere
 * (`didResolveOperation` is the first hook after parsing and validation, which do not read
 * variables; the response cache keys and execution come after it).
 */
export function variableLimits<TContext extends object>(limits: VariableLimits): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request }) {
          const problem = variablesProblem(request.variables, limits);
          if (problem) throw new GraphQLError(problem, { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } });
        },
      };
    },
  };
}
