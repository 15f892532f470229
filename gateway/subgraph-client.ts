import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { Fetcher, FetcherResponse } from '@apollo/utils.fetcher';
import { context as otelContext, propagation, SpanStatusCode, trace } from '@opentelemetry/api';
import { GraphQLError } from 'graphql';
import { Agent, fetch } from 'undici';
import type { GatewayContext } from './context.ts';
import { dedupeRepresentations, expandEntities, type DedupedRepresentations } from './entity-dedup.ts';
import { mergedDocument, mergedVariables, refuseMerge, splitAnswer, type FetchPayload } from './fetch-merge.ts';
import { writeEpoch, wrote } from './write-epoch.ts';

/**
 * One keep-alive pool for every subgraph origin, at most `connections` sockets each
 * (GATEWAY_SUBGRAPH_CONNECTIONS). Idle sockets close before the subgraphs' own keep-alive timeout
 * (Fastify: 72 s, node: 5 s; undici also honours the server's Keep-Alive hint), so the gateway
 * rarely writes into a socket the server is closing.
 */
export function createSubgraphAgent(connections: number): Agent {
  return new Agent({ keepAliveTimeout: 4_000, keepAliveMaxTimeout: 60_000, connections });
}

/** How a subgraph fetch ended; `skipped`: not sent, the client had hung up. */
export type FetchOutcome = 'ok' | 'timeout' | 'unavailable' | 'skipped';

/** The outcome on the fetch's span (Apollo Gateway's gateway.fetch, active here), when tracing is on. */
function traceOutcome(outcome: FetchOutcome) {
  const span = trace.getActiveSpan();
  if (!span) return;
  span.setAttribute('bizosaas.fetch.outcome', outcome);
  if (outcome === 'timeout' || outcome === 'unavailable') span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
}

export interface SubgraphClientOptions {
  name: string;
  url: string;
  agent: Agent;
  /** Abort a subgraph fetch (headers and body) after this long; the rest of the plan goes on. */
  timeoutMs: number;
  /** Sent as `Authorization: Bearer <token>` instead of the caller's JWT (Saleor's App token). */
  serviceToken?: string;
  /**
   * In-flight deduplication (GATEWAY_FETCH_DEDUP, on by default): a query fetch identical to one
   * this client has in flight (same document, variables and credentials) waits for that one's
   * answer instead of sending its own. Never a mutation.
   */
  dedup?: boolean;
  /**
   * Fetch merging (GATEWAY_FETCH_MERGE, on by default): query fetches of one operation that start
   * together (a stage of the plan, see plan-stages.ts) go to this subgraph as one request
   * (fetch-merge.ts). Never a mutation.
   */
  merge?: boolean;
  onFetch?(subgraph: string, seconds: number, outcome: FetchOutcome): void;
  /** A fetch answered by an identical one in flight (not sent). */
  onDeduplicated?(subgraph: string): void;
  /** `count` fetches sent as one request (merge). */
  onMerged?(subgraph: string, count: number): void;
}

/** At most this many fetches in one merged request (the public benchmark's largest stage has 7). */
const MAX_MERGED = 16;

/** A fetch waiting for the end of the current synchronous sweep to learn its request's companions. */
interface PendingFetch {
  payload: FetchPayload;
  resolve(answer: SubgraphBody): void;
  reject(error: unknown): void;
}

/** A subgraph's raw answer: what identical fetches in flight share (each parses its own copy). */
interface RawAnswer {
  statusCode: number;
  contentType: string | undefined;
  text: string;
}

/** Fetches that must never be shared: a mutation's effect belongs to the operation that asked for it. */
const NOT_SHAREABLE = /^\s*(mutation|subscription)\b/;

/** What a failed subgraph becomes for the client: its name and a message written for people. */
export function unavailableError(serviceName: string, timedOut: boolean) {
  return {
    message: timedOut
      ? `The ${serviceName} service did not answer in time.`
      : `The ${serviceName} service is unavailable.`,
    extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName },
  };
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const isTimeout = (error: unknown) =>
  error instanceof Error &&
  (error.name === 'TimeoutError' ||
    TIMEOUT_CODES.has((error as { code?: string }).code ?? '') ||
    (error.cause as Error | undefined)?.name === 'TimeoutError');

/** A non-2xx subgraph answer; `body` is its parsed JSON (or text), as RemoteGraphQLDataSource reports it. */
class SubgraphHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`${status}: subgraph answered with an HTTP error`);
  }
}

type SubgraphBody = { data?: Record<string, unknown> | null; errors?: unknown[]; extensions?: Record<string, unknown> };

/** A subgraph's raw answer parsed: JSON for a 2xx answer, SubgraphHttpError otherwise. */
function decode({ statusCode, contentType, text }: RawAnswer): SubgraphBody {
  const json =
    typeof contentType === 'string' &&
    (contentType.startsWith('application/json') || contentType.startsWith('application/graphql-response+json'));
  const parsed: unknown = json ? JSON.parse(text) : text;
  if (statusCode < 200 || statusCode > 299) throw new SubgraphHttpError(statusCode, parsed);
  if (!parsed || typeof parsed !== 'object') throw new Error(`Expected JSON response body, but received: ${text.slice(0, 100)}`);
  return parsed as SubgraphBody;
}

/**
 * The gateway's subgraph client: undici keep-alive pool, a timeout per fetch, and a fixed header
 * policy. Only `authorization`, `x-request-id`, the gateway-set `x-forwarded-for` and, with
 * tracing on, the fetch span's `traceparent` (the client's trace continues through it) leave the
 * gateway; cookies and every other client header stay behind (RemoteGraphQLDataSource forwards
 * nothing by default, and we add only these).
 */
export class SubgraphClient extends RemoteGraphQLDataSource<GatewayContext> {
  private readonly options: SubgraphClientOptions;
  private readonly origin: string;
  private readonly path: string;
  /** Fixed per subgraph: the content type and, for Saleor, the App token. */
  private readonly baseHeaders: Record<string, string>;
  /** Query fetches in flight by credentials and body (`dedup`). */
  private readonly inflight = new Map<string, Promise<RawAnswer>>();
  /** Query fetches gathering for one request, by operation (`merge`). */
  private readonly batches = new WeakMap<object, { headers: Record<string, string>; fetches: PendingFetch[] }>();

  constructor(options: SubgraphClientOptions) {
    const { agent, timeoutMs } = options;
    // Only schema loading (IntrospectAndCompose) and health checks go through RemoteGraphQLDataSource's
    // fetch path; the per-query path is `send` below.
    const fetcher: Fetcher = (url, init) =>
      fetch(url, { ...init, dispatcher: agent, signal: AbortSignal.timeout(timeoutMs) }) as unknown as Promise<FetcherResponse>;
    super({ url: options.url, fetcher, honorSubgraphCacheControlHeader: false });
    this.options = options;
    const url = new URL(options.url);
    this.origin = url.origin;
    this.path = url.pathname + url.search;
    this.baseHeaders = { 'content-type': 'application/json' };
    if (options.serviceToken) this.baseHeaders.authorization = `Bearer ${options.serviceToken}`;
  }

  /**
   * The per-query fetch: undici `request()` on the shared keep-alive Agent. No WHATWG
   * Request/Response/Headers objects, no web streams, no AbortSignal per fetch: undici's own
   * timers bound the wait for the headers and every gap in the body (`timeoutMs` each). The body
   * is read once and parsed once.
   */
  private async send(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<SubgraphBody> {
    const { request, context } = options;
    const headers: Record<string, string> = { ...this.baseHeaders };
    // Headers the gateway itself set on the subgraph request (the federated-trace header, when tracing is on).
    const own = request.http?.headers;
    if (own) for (const [name, value] of own) headers[name.toLowerCase()] = value;
    headers['content-type'] = 'application/json';
    if (!this.options.serviceToken && context?.authorization) headers.authorization = context.authorization;
    if (context?.requestId) headers['x-request-id'] = context.requestId;
    if (context?.clientIp) headers['x-forwarded-for'] = context.clientIp;
    // W3C traceparent of this fetch's span (Apollo Gateway's gateway.fetch), when tracing is on:
    // the subgraph's request span joins the trace. (Tracing off: the no-op propagator adds nothing.)
    propagation.inject(otelContext.active(), headers);
    if (!request.query) throw new Error('Missing query');
    const payload: FetchPayload & { extensions?: Record<string, unknown> } = { query: request.query };
    let deduped: DedupedRepresentations | null = null;
    if (request.variables) {
      const { representations } = request.variables;
      deduped = Array.isArray(representations) ? dedupeRepresentations(representations) : null;
      payload.variables = deduped ? { ...request.variables, representations: deduped.unique } : request.variables;
    }
    if (request.operationName) payload.operationName = request.operationName;
    if (request.extensions) payload.extensions = request.extensions;
    // Fetch merging gathers by operation; a fetch with headers of its own (Apollo's ftv1 request) goes alone.
    const operation = 'incomingRequestContext' in options ? options.incomingRequestContext : null;
    let answer: SubgraphBody;
    try {
      if (NOT_SHAREABLE.test(request.query)) {
        // A write: reads that start once it has ended must not share answers from before it.
        answer = decode(await this.exchange(headers, JSON.stringify(payload)).finally(wrote));
      } else if (this.options.merge && operation && !payload.extensions && !own) {
        answer = await this.merged(operation, headers, payload);
      } else {
        answer = decode(await this.transport(headers, JSON.stringify(payload)));
      }
    } catch (error) {
      // A non-2xx answer's body (GraphQL errors, maybe data) as the executor's own fetch expects it.
      if (deduped && error instanceof SubgraphHttpError && error.body && typeof error.body === 'object') {
        throw new SubgraphHttpError(error.status, expandEntities(error.body as SubgraphBody, deduped));
      }
      throw error;
    }
    return deduped ? expandEntities(answer, deduped) : answer;
  }

  /** A query's exchange: shared with an identical one in flight when `dedup` is on. */
  private transport(headers: Record<string, string>, body: string): Promise<RawAnswer> {
    if (!this.options.dedup) return this.exchange(headers, body);
    return this.shared(`${writeEpoch()}\n${headers.authorization ?? ''}\n${body}`, () => this.exchange(headers, body));
  }

  /**
   * Fetch merging: the fetch joins the other fetches of its operation (Apollo's request context:
   * never another caller's) to this subgraph that start in the same synchronous sweep (a stage of
   * the plan), and they go as one request once the sweep ends. Their headers are the operation's,
   * so the first fetch's (its traceparent standing for all) are everyone's.
   */
  private merged(operation: object, headers: Record<string, string>, payload: FetchPayload): Promise<SubgraphBody> {
    return new Promise<SubgraphBody>((resolve, reject) => {
      const fetch: PendingFetch = { payload, resolve, reject };
      const open = this.batches.get(operation);
      if (open && open.fetches.length < MAX_MERGED) {
        open.fetches.push(fetch);
        return;
      }
      const batch = { headers, fetches: [fetch] };
      this.batches.set(operation, batch);
      queueMicrotask(() => {
        if (this.batches.get(operation) === batch) this.batches.delete(operation);
        this.sendBatch(batch.headers, batch.fetches);
      });
    });
  }

  private sendBatch(headers: Record<string, string>, fetches: PendingFetch[]): void {
    const queries = fetches.map((f) => f.payload.query);
    const merged = fetches.length > 1 ? mergedDocument(queries) : null;
    if (!merged) {
      for (const fetch of fetches) this.sendAlone(headers, fetch);
      return;
    }
    const body = JSON.stringify({ query: merged.query, variables: mergedVariables(fetches.map((f) => f.payload)), operationName: merged.operationName });
    this.transport(headers, body)
      .then((raw) => {
        let parts: SubgraphBody[] | null = null;
        let whole: SubgraphBody | null = null;
        try {
          whole = decode(raw);
          parts = splitAnswer(whole, merged);
        } catch {
          // A non-2xx or unreadable answer: like one that cannot be split, tried fetch by fetch.
        }
        if (!parts) {
          // Refused as a whole (not one fetch's null data, which depends on the data): never again.
          if (whole?.data !== null) refuseMerge(queries);
          for (const fetch of fetches) this.sendAlone(headers, fetch);
          return;
        }
        this.options.onMerged?.(this.options.name, fetches.length);
        fetches.forEach((fetch, i) => fetch.resolve(parts[i]!));
      })
      // The exchange failed (down, timeout): every fetch fails as it would have alone.
      .catch((error: unknown) => {
        for (const fetch of fetches) fetch.reject(error);
      });
  }

  private sendAlone(headers: Record<string, string>, fetch: PendingFetch): void {
    this.transport(headers, JSON.stringify(fetch.payload)).then(decode).then(fetch.resolve, fetch.reject);
  }

  /** One HTTP exchange with the subgraph: its status, content type and body text. */
  private async exchange(headers: Record<string, string>, body: string): Promise<RawAnswer> {
    const { timeoutMs, agent } = this.options;
    const response = await agent.request({
      origin: this.origin,
      path: this.path,
      method: 'POST',
      headers,
      body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const text = await response.body.text();
    const contentType = response.headers['content-type'];
    return { statusCode: response.statusCode, contentType: typeof contentType === 'string' ? contentType : undefined, text };
  }

  /**
   * The answer of the identical fetch in flight under `key` (the credentials and the body: the
   * document, variables, operation name), or of a new one started by `send`. Its failure or
   * timeout reaches every fetch that waited on it. The raw text is shared, never parsed objects:
   * Apollo Gateway merges each fetch's data into its own operation's result.
   */
  private shared(key: string, send: () => Promise<RawAnswer>): Promise<RawAnswer> {
    const pending = this.inflight.get(key);
    if (pending) {
      this.options.onDeduplicated?.(this.options.name);
      trace.getActiveSpan()?.setAttribute('bizosaas.fetch.deduplicated', true);
      return pending;
    }
    const answer = send().finally(() => this.inflight.delete(key));
    this.inflight.set(key, answer);
    return answer;
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
    if ('incomingRequestContext' in options && options.context?.clientGone()) {
      onFetch?.(name, 0, 'skipped');
      traceOutcome('skipped');
      return { errors: [new GraphQLError(`The client closed the connection; the ${name} fetch was skipped.`, { extensions: { code: 'CLIENT_CLOSED_REQUEST' } })] };
    }
    try {
      const response =
        'incomingRequestContext' in options
          ? ((await this.send(options)) as GatewayGraphQLResponse)
          : await super.process(options);
      onFetch?.(name, (performance.now() - started) / 1000, 'ok');
      traceOutcome('ok');
      return response;
    } catch (error) {
      const timedOut = isTimeout(error);
      onFetch?.(name, (performance.now() - started) / 1000, timedOut ? 'timeout' : 'unavailable');
      traceOutcome(timedOut ? 'timeout' : 'unavailable');
      if (!('incomingRequestContext' in options)) throw error; // health check or schema loading
      // A non-2xx answer that still carries GraphQL errors (401/403/400 JSON) goes through the
      // normal error path, where the gateway's formatError decides what the client sees.
      // (Duck-typed: under vitest the gateway's GraphQLError class is not the one imported here.)
      const body =
        error instanceof SubgraphHttpError
          ? error.body
          : (error as { extensions?: { response?: { body?: unknown } } }).extensions?.response?.body;
      if (body && typeof body === 'object' && Array.isArray((body as GatewayGraphQLResponse).errors)) {
        return { data: (body as GatewayGraphQLResponse).data ?? null, errors: (body as GatewayGraphQLResponse).errors };
      }
      // The cause (ECONNREFUSED with the internal URL, the abort) stays on originalError for the log.
      const { message, extensions } = unavailableError(name, timedOut);
      return { errors: [new GraphQLError(message, { extensions, originalError: error as Error })] };
    }
  }
}
