import { GraphQLError, type GraphQLFormattedError } from 'graphql';

/** Error codes whose messages are written for clients; anything else is redacted. */
export const CLIENT_ERROR_CODES = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'RATE_LIMITED',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  // The gateway's trusted documents (gateway/trusted-documents.ts).
  'PERSISTED_QUERY_NOT_ALLOWED',
  'PERSISTED_QUERY_HASH_MISMATCH',
  'OPERATION_RESOLUTION_FAILURE',
  'SUBGRAPH_UNAVAILABLE',
]);

export const unauthenticated = (message = 'You must be logged in.') =>
  new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 200 } } });

export const forbidden = (message = 'You do not have permission to do this.') =>
  new GraphQLError(message, { extensions: { code: 'FORBIDDEN' } });

export const badInput = (message: string, field?: string) =>
  new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', ...(field ? { field } : {}) } });

export const notFound = (what: string) => new GraphQLError(`${what} not found.`, { extensions: { code: 'NOT_FOUND' } });

export const rateLimited = (retryAfterSeconds: number) =>
  new GraphQLError(`Too many attempts. Try again in ${retryAfterSeconds} seconds.`, {
    extensions: { code: 'RATE_LIMITED', retryAfter: retryAfterSeconds },
  });

/** Mutation payload error: bad input is data, not an exception (the payload's `errors`, ARCHITECTURE.md). */
export interface InputError<C extends string = string> {
  field: string | null;
  message: string;
  code: C;
}
export const inputError = <C extends string>(field: string | null, message: string, code: C): InputError<C> => ({
  field,
  message,
  code,
});

/**
 * Keeps what a client may see: the message of client-facing codes, the code, the path.
 * Everything else (SQL, stack, internal URLs) becomes "Internal server error"; the caller logs
 * the original.
 */
export function redactError(formatted: GraphQLFormattedError): GraphQLFormattedError {
  const code = typeof formatted.extensions?.code === 'string' ? formatted.extensions.code : undefined;
  const extensions: Record<string, unknown> = {};
  for (const key of ['code', 'field', 'retryAfter', 'serviceName'] as const) {
    if (formatted.extensions?.[key] !== undefined) extensions[key] = formatted.extensions[key];
  }
  if (code && CLIENT_ERROR_CODES.has(code)) {
    return { message: formatted.message, locations: formatted.locations, path: formatted.path, extensions };
  }
  return {
    message: 'Internal server error',
    locations: formatted.locations,
    path: formatted.path,
    extensions: { ...extensions, code: 'INTERNAL_SERVER_ERROR' },
  };
}
