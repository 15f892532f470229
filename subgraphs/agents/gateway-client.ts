import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import type { GatewayClient } from './analysts/types.ts';
import type { GatewayAccessDeps, RunCredentials } from './credentials.ts';
import { agentsGatewayUrl } from './gateway-settings.ts';
import { RunError } from './run-error.ts';

type GraphQLErrorBody = { message?: unknown; path?: unknown; extensions?: { code?: unknown } };
export type GatewayError = { message: string; code?: string; path?: readonly (string | number)[] };

/** Errors that say the operation itself is wrong: another attempt cannot succeed. */
const OPERATION_ERRORS = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT', 'BAD_REQUEST']);
const DENIED = new Set(['FORBIDDEN', 'UNAUTHENTICATED']);

const cancelled = () => new RunError('CANCELLED', 'The run was cancelled.');

/** Retry-After in seconds (a number or an HTTP date); null when absent or unreadable. */
function retryAfterSeconds(header: string | string[] | undefined): number | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, Math.ceil((at - Date.now()) / 1000)) : null;
}

function toError(raw: GraphQLErrorBody): GatewayError {
  const code = typeof raw.extensions?.code === 'string' ? raw.extensions.code : undefined;
  const path = Array.isArray(raw.path) ? (raw.path as (string | number)[]) : undefined;
  return { message: typeof raw.message === 'string' ? raw.message : 'Unknown error', ...(code ? { code } : {}), ...(path ? { path } : {}) };
}

/** A GraphQL response body (`data` or `errors`), or null for anything else (an HTML error page). */
function parseBody(text: string): { data?: unknown; errors?: unknown } | null {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return null;
  }
  if (!body || typeof body !== 'object') return null;
  const { data, errors } = body as { data?: unknown; errors?: unknown };
  return data !== undefined || Array.isArray(errors) ? { data, errors } : null;
}

/** The RunError of a response's errors (the first that denies, else the first). */
export function runErrorOf(errors: readonly GatewayError[]): RunError {
  const denied = errors.find((e) => e.code && DENIED.has(e.code));
  if (denied) return new RunError('FORBIDDEN', `Not allowed for the member this run acts as: ${denied.message}`, false);
  const first = errors[0]!;
  if (first.code && OPERATION_ERRORS.has(first.code)) return new RunError('INTERNAL', 'The agent sent the gateway an operation it refused.', false);
  return new RunError('UPSTREAM_ERROR', `The gateway answered with an error: ${first.message}`);
}

/**
 * GraphQL at the gateway with a run's credentials (analysts/types.ts GatewayClient): the same
 * path, limits and rules as any member's request. A call the gateway refuses for load (429, 503)
 * is retried after its Retry-After (at most AGENTS_GATEWAY_RETRIES times, each wait at most
 * AGENTS_GATEWAY_MAX_RETRY_AFTER_SECONDS); a token the gateway no longer accepts (the member's
 * role changed: its tokens were revoked) is replaced once by a fresh one with the current roles.
 * Each call times out after AGENTS_GATEWAY_TIMEOUT_MS (TIMEOUT), and every wait ends when
 * `signal` aborts (CANCELLED).
 */
export function createGatewayClient(deps: GatewayAccessDeps, credentials: RunCredentials, signal: AbortSignal): GatewayClient {
  const url = agentsGatewayUrl(deps.settings, deps.env);
  const { AGENTS_GATEWAY_TIMEOUT_MS: timeoutMs, AGENTS_GATEWAY_RETRIES: retries, AGENTS_GATEWAY_MAX_RETRY_AFTER_SECONDS: maxWait } = deps.settings;

  async function send(document: string, variables: Record<string, unknown> | undefined): Promise<{ data: unknown; errors: GatewayError[] }> {
    let freshToken = false;
    for (let attempt = 0; ; attempt++) {
      if (signal.aborted) throw cancelled();
      const token = await credentials.token({ fresh: freshToken, signal });
      const timeout = AbortSignal.timeout(timeoutMs);
      let status: number;
      let retryAfter: number | null;
      let text: string;
      try {
        const response = await request(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify({ query: document, variables: variables ?? {} }),
          signal: AbortSignal.any([signal, timeout]),
        });
        status = response.statusCode;
        retryAfter = retryAfterSeconds(response.headers['retry-after']);
        text = await response.body.text();
      } catch (error) {
        if (signal.aborted) throw cancelled();
        if (timeout.aborted) throw new RunError('TIMEOUT', `A call to the gateway took longer than ${Math.round(timeoutMs / 1000)} s.`);
        deps.log.warn({ err: (error as Error).message }, 'agents: the gateway cannot be reached');
        throw new RunError('UPSTREAM_ERROR', 'The gateway cannot be reached; the run will be retried.');
      }

      if (status === 429 || status === 503) {
        const wait = retryAfter ?? 1;
        if (attempt >= retries || wait > maxWait) {
          throw new RunError('UPSTREAM_ERROR', status === 429 ? 'The tenant is over its request rate limit.' : 'The gateway is overloaded.');
        }
        try {
          await sleep(wait * 1000, undefined, { signal });
        } catch {
          throw cancelled();
        }
        continue;
      }

      const body = parseBody(text);
      if (!body) {
        deps.log.warn({ status }, 'agents: the gateway answered without a GraphQL body');
        throw new RunError('UPSTREAM_ERROR', `The gateway answered ${status}; the run will be retried.`);
      }
      const errors = Array.isArray(body.errors) ? (body.errors as GraphQLErrorBody[]).map(toError) : [];
      // A token voided by a role change reaches the graph as anonymous: once, with a new token.
      if (!freshToken && errors.some((e) => e.code === 'UNAUTHENTICATED')) {
        freshToken = true;
        continue;
      }
      return { data: body.data ?? null, errors };
    }
  }

  async function query(document: string, variables?: Record<string, unknown>, options?: { partial?: boolean }) {
    const { data, errors } = await send(document, variables);
    if (options?.partial) return { data, errors };
    if (errors.length) throw runErrorOf(errors);
    return data;
  }

  return { query: query as GatewayClient['query'] };
}
