import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { Fetcher, FetcherResponse } from '@apollo/utils.fetcher';
import { GraphQLError } from 'graphql';
import { Agent, fetch } from 'undici';
import type { GatewayContext } from './context.ts';

/**
 * One keep-alive pool for every subgraph origin. Idle sockets close before the subgraphs' own
 * keep-alive timeout (Fastify: 72 s, node: 5 s; undici also honours the server's Keep-Alive hint),
 * so the gateway rarely writes into a socket the server is closing.
 */
export function createSubgraphAgent(): Agent {
  return new Agent({ keepAliveTimeout: 4_000, keepAliveMaxTimeout: 60_000, connections: 256 });
}

export type FetchOutcome = 'ok' | 'timeout' | 'unavailable';

export interface SubgraphClientOptions {
  name: string;
  url: string;
  agent: Agent;
  /** Abort a subgraph fetch (headers and body) after this long; the rest of the plan goes on. */
  timeoutMs: number;
  /** Sent as `Authorization: Bearer <token>` instead of the caller's JWT (Saleor's App token). */
  serviceToken?: string;
  onFetch?(subgraph: string, seconds: number, outcome: FetchOutcome): void;
}

/** What a failed subgraph becomes for the client: its name and a message written for people. */
export function unavailableError(serviceName: string, timedOut: boolean) {
  return {
    message: timedOut
      ? `The ${serviceName} service did not answer in time.`
      : `The ${serviceName} service is unavailable.`,
    extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName },
  };
}

const isTimeout = (error: unknown) =>
  error instanceof Error && (error.name === 'TimeoutError' || (error.cause as Error | undefined)?.name === 'TimeoutError');

/**
 * The gateway's subgraph client: undici keep-alive pool, a timeout per fetch, and a fixed header
 * policy. Only `authorization`, `x-request-id` and the gateway-set `x-forwarded-for` leave the
 * gateway; cookies and every other client header stay behind (RemoteGraphQLDataSource forwards
 * nothing by default, and we add only these).
 */
export class SubgraphClient extends RemoteGraphQLDataSource<GatewayContext> {
  private readonly options: SubgraphClientOptions;

  constructor(options: SubgraphClientOptions) {
    const { agent, timeoutMs } = options;
    const fetcher: Fetcher = (url, init) =>
      fetch(url, { ...init, dispatcher: agent, signal: AbortSignal.timeout(timeoutMs) }) as unknown as Promise<FetcherResponse>;
    super({ url: options.url, fetcher, honorSubgraphCacheControlHeader: false });
    this.options = options;
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    const headers = request.http!.headers;
    const authorization = this.options.serviceToken ? `Bearer ${this.options.serviceToken}` : context?.authorization;
    if (authorization) headers.set('authorization', authorization);
    if (context?.requestId) headers.set('x-request-id', context.requestId);
    if (context?.clientIp) headers.set('x-forwarded-for', context.clientIp);
  }

  /**
   * A subgraph that is down, too slow or answers garbage costs its own fields, not the request:
   * the failure becomes a GraphQL error for that subgraph and the rest of the plan's data stays.
   * Schema loading (IntrospectAndCompose) still throws so a bad start is loud.
   */
  override async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    const started = performance.now();
    const { name, onFetch } = this.options;
    try {
      const response = await super.process(options);
      onFetch?.(name, (performance.now() - started) / 1000, 'ok');
      return response;
    } catch (error) {
      const timedOut = isTimeout(error);
      onFetch?.(name, (performance.now() - started) / 1000, timedOut ? 'timeout' : 'unavailable');
      if (!('incomingRequestContext' in options)) throw error; // health check or schema loading
      // A non-2xx answer that still carries GraphQL errors (401/403/400 JSON) goes through the
      // normal error path, where the gateway's formatError decides what the client sees.
      // (Duck-typed: under vitest the gateway's GraphQLError class is not the one imported here.)
      const body = (error as { extensions?: { response?: { body?: unknown } } }).extensions?.response?.body;
      if (body && typeof body === 'object' && Array.isArray((body as GatewayGraphQLResponse).errors)) {
        return { data: (body as GatewayGraphQLResponse).data ?? null, errors: (body as GatewayGraphQLResponse).errors };
      }
      // The cause (ECONNREFUSED with the internal URL, the abort) stays on originalError for the log.
      const { message, extensions } = unavailableError(name, timedOut);
      return { errors: [new GraphQLError(message, { extensions, originalError: error as Error })] };
    }
  }
}
