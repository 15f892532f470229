import { untraced } from '../subgraphs/kit/telemetry/tracing.ts';
import { Kind, OperationTypeNode, parse, type TypeNode } from 'graphql';
import type { Logger } from '../subgraphs/kit/logger.ts';
import { ANONYMOUS } from '../subgraphs/kit/principal.ts';
import { warmUpTokens, WARM_UP_REQUEST_ID } from '../subgraphs/kit/warm-up.ts';
import type { GatewayContext } from './context.ts';
import { ROUTES } from './rest/routes.ts';
import type { Gateway } from './server.ts';

/*
 * The gateway's warm-up (see subgraphs/kit/warm-up.ts for why), run by its entry points after
 * createGateway and before listen, so `/health` and `/ready` answer only after it: jose and
 * WebCrypto, node's fetch (the JWKS), Apollo's request pipeline and graphql-armor, the query
 * planner, and a keep-alive connection to each subgraph. It runs the REST shim's query
 * operations (the legacy paths' real operations: their plans are then cached for the first
 * legacy requests) as an anonymous caller, through Apollo directly: no HTTP request, so no rate
 * limit, admission slot or access-log line. Subgraphs answer them quickly (most need a token), or
 * are not up yet (fetch errors, also quick). Mutations never run. Bounded by a time budget.
 */

const BUDGET_MS = 10_000;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/** Values for an operation's required variables (scalars only); null when one cannot be made up. */
export function dummyVariables(query: string): Record<string, unknown> | null {
  const document = parse(query);
  const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (!operation || operation.kind !== Kind.OPERATION_DEFINITION || operation.operation !== OperationTypeNode.QUERY) return null;
  const values: Record<string, unknown> = {};
  for (const variable of operation.variableDefinitions ?? []) {
    if (variable.type.kind !== Kind.NON_NULL_TYPE || variable.defaultValue) continue;
    const type: TypeNode = variable.type.type;
    if (type.kind !== Kind.NAMED_TYPE) return null;
    const sample = { ID: NIL_UUID, String: WARM_UP_REQUEST_ID, Int: 1, Float: 1, Boolean: false }[type.name.value];
    if (sample === undefined) return null;
    values[variable.variable.name.value] = sample;
  }
  return values;
}

/** The operations the warm-up runs: `{ __typename }` and every REST query it can make variables for. */
export function warmUpOperations(): { query: string; variables: Record<string, unknown> }[] {
  const operations = [{ query: '{ __typename }', variables: {} }];
  const seen = new Set<string>();
  for (const route of ROUTES) {
    if (!route.operation || seen.has(route.operation)) continue;
    seen.add(route.operation);
    const variables = dummyVariables(route.operation);
    if (variables) operations.push({ query: route.operation, variables });
  }
  return operations;
}

export function warmUpGateway(gateway: Pick<Gateway, 'apollo' | 'subgraphUrls'>, log: Logger, jwksUrl?: string): Promise<void> {
  return untraced(() => warmUp(gateway, log, jwksUrl));
}

async function warmUp(gateway: Pick<Gateway, 'apollo' | 'subgraphUrls'>, log: Logger, jwksUrl?: string): Promise<void> {
  const started = performance.now();
  const deadline = started + BUDGET_MS;
  try {
    await warmUpTokens();
    // Loads node's fetch (undici) and opens the connection jose's JWKS fetch then reuses.
    const jwks = jwksUrl ?? (gateway.subgraphUrls.auth ? new URL('/.well-known/jwks.json', gateway.subgraphUrls.auth).toString() : undefined);
    if (jwks) await fetch(jwks, { signal: AbortSignal.timeout(2_000) }).then((r) => r.arrayBuffer());
  } catch (error) {
    log.debug({ err: (error as Error).message }, 'warm-up: tokens');
  }
  const tokens = Math.round(performance.now() - started);
  let ran = 0;
  for (const operation of warmUpOperations()) {
    if (performance.now() > deadline) break;
    const contextValue: GatewayContext = {
      requestId: WARM_UP_REQUEST_ID,
      clientIp: '127.0.0.1',
      authorization: undefined,
      principal: ANONYMOUS,
      trace: { operationName: null },
      clientGone: () => performance.now() > deadline,
    };
    try {
      await gateway.apollo.executeOperation(operation, { contextValue });
      ran++;
    } catch (error) {
      log.debug({ err: (error as Error).message }, 'warm-up: operation failed');
    }
  }
  log.info({ ms: Math.round(performance.now() - started), tokensMs: tokens, operations: ran }, 'warmed up');
}
