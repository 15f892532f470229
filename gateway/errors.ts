import type { GraphQLFormattedError } from 'graphql';
import { redactError } from '../subgraphs/kit/errors.ts';

/**
 * What the client may see of a subgraph's error. Our subgraphs already redact, but a subgraph can
 * still be wrong and Saleor writes its own errors: only messages written for end users pass
 * (auth, permission, input, not found, throttling, and our own "service unavailable").
 * A parse or validation error *from a subgraph* is a gateway/subgraph mismatch, not the client's
 * fault, so it is redacted like any other internal error.
 */
const SUBGRAPH_CLIENT_CODES = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'RATE_LIMITED',
  'SUBGRAPH_UNAVAILABLE',
]);

/** Saleor puts its error class in `extensions.exception.code`; these ones are meant for clients. */
const SALEOR_CODES: Record<string, string> = {
  PermissionDenied: 'FORBIDDEN',
  ValidationError: 'BAD_USER_INPUT',
  JSONWebTokenExpired: 'UNAUTHENTICATED',
  JSONWebTokenError: 'UNAUTHENTICATED',
};

function subgraphCode(extensions: Record<string, unknown>): string | undefined {
  const exception = extensions.exception as { code?: unknown } | undefined;
  const saleor = typeof exception?.code === 'string' ? SALEOR_CODES[exception.code] : undefined;
  if (saleor) return saleor;
  const code = extensions.code;
  return typeof code === 'string' && SUBGRAPH_CLIENT_CODES.has(code) ? code : undefined;
}

/**
 * The gateway's formatError: no stack, SQL, internal URL or unintended subgraph message reaches
 * a client; `extensions.code` (and `serviceName` for subgraph errors) stays. The original error
 * is logged by the request plugin, not here.
 */
export function formatGatewayError(formatted: GraphQLFormattedError): GraphQLFormattedError {
  const extensions = formatted.extensions ?? {};
  if (typeof extensions.serviceName !== 'string') return redactError(formatted);
  const code = subgraphCode(extensions);
  return redactError({ ...formatted, extensions: { ...extensions, code: code ?? 'INTERNAL_SERVER_ERROR' } });
}

/** A request-level error body in the GraphQL response shape (400, 413, 429, ...). */
export function errorBody(message: string, code: string, extra: Record<string, unknown> = {}) {
  return { errors: [{ message, extensions: { code, ...extra } }] };
}

/**
 * For the log: the innermost cause behind an error (the ECONNREFUSED or abort behind
 * SUBGRAPH_UNAVAILABLE, the subgraph's own message behind a redacted one).
 */
export function rootCause(error: unknown): { name?: string; message?: string; code?: unknown } {
  let current = error as { originalError?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; depth < 6 && current; depth++) {
    const next = (current.originalError ?? current.cause) as typeof current;
    if (!next) break;
    current = next;
  }
  const c = current as { name?: string; message?: string; code?: unknown } | undefined;
  return { name: c?.name, message: c?.message, code: c?.code };
}
