import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { bool, ConfigError, configSchema, orExit, parseEnv, port, trustedProxies, type Env } from '../subgraphs/kit/config.ts';

/**
 * The gateway's settings: the shared ones (subgraphs/kit/config.ts) and its own, read from the
 * environment once. A bad value stops the process with one line that names the variable.
 */
export const gatewayConfigSchema = configSchema.extend({
  GATEWAY_PORT: port.default(8001),
  /** Gateway processes sharing GATEWAY_PORT (node:cluster): a count, or `auto` for one per core. */
  GATEWAY_WORKERS: z
    .string()
    .regex(/^(auto|[1-9]\d{0,2})$/i, 'expected a worker count or auto')
    .default('1')
    .transform((v) => (v.toLowerCase() === 'auto' ? availableParallelism() : Number(v))),

  /**
   * Which proxies in front of the gateway to believe for the client IP (per-IP rate limits,
   * login throttling): false (the socket peer; default), true, a hop count, or a comma-separated
   * list of proxy addresses/CIDRs. Anything but false lets clients behind it set X-Forwarded-For.
   */
  GATEWAY_TRUST_PROXY: trustedProxies('false'),
  /** Browser origins allowed to call the gateway (CORS), comma-separated; empty: none. */
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.url({ protocol: /^https?$/ }))),
  /**
   * Admission control (gateway/admission.ts): operations run at once, adapting between MIN (the
   * CPU is saturated, or operations slow down as more run) and MAX; past QUEUE_MAX waiting ones
   * the gateway answers 503.
   */
  GATEWAY_CONCURRENCY_MIN: z.coerce.number().int().min(1).max(10_000).default(2),
  GATEWAY_CONCURRENCY_MAX: z.coerce.number().int().min(1).max(10_000).default(512),
  GATEWAY_QUEUE_MAX: z.coerce.number().int().min(0).max(100_000).default(2048),
  /**
   * The longest an operation waits for admission, ms: past it, 503 OVERLOADED. An operation whose
   * predicted wait is over it (over GATEWAY_QUEUE_TARGET_MS while the gateway is overloaded) is
   * refused on arrival instead.
   */
  GATEWAY_QUEUE_TIMEOUT_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  /**
   * While the gateway is overloaded (its queue has not emptied for this long, or it refused an
   * operation this recently), the longest predicted wait it still queues an operation for, ms;
   * past it, 503 OVERLOADED on arrival. Default: a tenth of GATEWAY_QUEUE_TIMEOUT_MS. At most the
   * queue timeout, which turns the rule off: for callers that resend at once (a closed loop).
   */
  GATEWAY_QUEUE_TARGET_MS: z.coerce.number().int().min(1).max(60_000).optional(),
  SUBGRAPH_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /**
   * In-flight deduplication of subgraph fetches (gateway/subgraph-client.ts): a query fetch
   * identical to one in flight to the same subgraph (same document, variables and credentials:
   * the caller's Authorization, or Saleor's App token) shares its answer instead of being sent.
   * Never a mutation. Counted in gateway_subgraph_fetches_deduplicated_total. On by default.
   */
  GATEWAY_FETCH_DEDUP: bool.default(true),
  /**
   * Fetch merging (gateway/plan-stages.ts, gateway/fetch-merge.ts): query plans run in stages,
   * and the query fetches of a stage to one subgraph go as one operation (root fields aliased).
   * The public benchmark's TestQuery: 16 subgraph requests become 6. Never a mutation. Counted in
   * gateway_subgraph_fetches_merged_total. On by default.
   */
  GATEWAY_FETCH_MERGE: bool.default(true),
  /**
   * In-flight deduplication of whole operations (gateway/operation-dedup.ts): a POST identical to
   * one being answered (body, Authorization, Accept) gets a copy of its answer when that was a
   * query's 200, instead of running again. Counted in gateway_operations_deduplicated_total. On by default.
   */
  GATEWAY_OPERATION_DEDUP: bool.default(true),
  /**
   * The most keep-alive connections the gateway opens to one subgraph; fetches past it wait in
   * the gateway. A subgraph answers no faster for more (its PostgreSQL pool is 10), while each
   * connection costs memory on both sides: 64 against 256 kept the gateway 15-20 MiB smaller
   * under scenario D and at overload. It bounds a subgraph's throughput
   * per gateway process at connections / fetch latency: raise it for a slow remote subgraph.
   * SUBGRAPH_TIMEOUT_MS counts from when a fetch has a connection; the wait for one is bounded by
   * admission control (GATEWAY_CONCURRENCY_MAX operations at once).
   */
  GATEWAY_SUBGRAPH_CONNECTIONS: z.coerce.number().int().min(1).max(4096).default(64),
  RATE_LIMIT_PER_MINUTE_IP: z.coerce.number().int().min(1).default(1200),
  RATE_LIMIT_PER_MINUTE_TENANT: z.coerce.number().int().min(1).default(6000),
  /**
   * How often the gateway adds the hits it counted locally to Redis (gateway/rate-limit.ts), ms;
   * 0 counts every request in Redis before answering it.
   */
  GATEWAY_RATE_LIMIT_SYNC_MS: z.coerce.number().int().min(0).max(10_000).default(100),
  /**
   * Trusted documents (gateway/trusted-documents.ts): `off` (any document; ids are not
   * resolved), `allow` (ids of the manifest resolve; any document is accepted too), `only`
   * (documents of the manifest only: any other is refused, PERSISTED_QUERY_NOT_ALLOWED, and APQ
   * registers none). The REST shim's operations and agent runs are trusted in every mode.
   * Default `allow`, in production too: the graph's clients today include frontends that send
   * their own documents (storefronts of agencies, portals) and developers in Apollo Sandbox, and
   * every arbitrary document is already bounded (tokens, depth, aliases, cost, rate limits,
   * admission). `only` is the hardening for a deployment whose every GraphQL client ships its
   * operations in a manifest; there Sandbox and GraphiQL cannot send ad-hoc documents: explore on
   * a gateway with `allow` (development, staging, or an internal one over the same subgraphs).
   */
  TRUSTED_DOCUMENTS: z.enum(['off', 'allow', 'only']).default('allow'),
  /**
   * The manifests of trusted documents (JSON: `"sha256:<hex>"` -> document, as graphql-codegen's
   * client preset writes with `persistedDocuments`), comma-separated, relative to the working
   * directory. Default the repository's clients/__generated__/persisted-documents.json
   * (`npm run codegen`); with `only` a manifest is required.
   */
  TRUSTED_DOCUMENTS_MANIFEST: z
    .string()
    .optional()
    .transform((v) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined)),
  /**
   * Live progress of agent runs (`GET /api/brain/agents/runs/{id}/events`, Server-Sent Events):
   * a comment line this often keeps idle streams open through proxies, ms (default 15 s).
   */
  AGENTS_SSE_HEARTBEAT_MS: z.coerce.number().int().min(100).max(300_000).default(15_000),
  /** Event streams one tenant may hold open at once in one gateway process; beyond, 429 (default 50). */
  AGENTS_SSE_MAX_STREAMS_PER_TENANT: z.coerce.number().int().min(1).max(100_000).default(50),
  /**
   * Supergraph hot reload (gateway/hot-reload.ts). The supergraph file the gateway serves
   * (without SALEOR_API_URL); default the repository's schema/supergraph.graphql, a relative path
   * is resolved against the working directory. SIGHUP always reloads it.
   */
  SUPERGRAPH_FILE: z.string().min(1).optional(),
  /**
   * Apply the file when it changes (fs.watch plus a stat every SUPERGRAPH_POLL_MS). Default: on
   * outside production (`npm run compose` reaches a running gateway); off in production, where
   * the supergraph is part of a release and changes by a deploy or an explicit SIGHUP, not because
   * a file on the host changed (as Apollo Router's hot reload is opt-in).
   */
  SUPERGRAPH_WATCH: bool.optional(),
  /** Quiet time after the last change before the file is read, ms (editors and copies write in steps). */
  SUPERGRAPH_WATCH_DEBOUNCE_MS: z.coerce.number().int().min(0).max(60_000).default(250),
  /** While watching, the file is also checked this often, for changes fs.watch misses (network or container filesystems), ms; 0: fs.watch alone. */
  SUPERGRAPH_POLL_MS: z.coerce.number().int().min(0).max(3_600_000).default(5_000),
  /**
   * With SALEOR_API_URL: how often the subgraphs' SDL is fetched again and, when it changed,
   * composed and applied (a Saleor upgrade), ms; 0: only at start and on SIGHUP.
   */
  SUPERGRAPH_INTROSPECT_POLL_MS: z.coerce.number().int().min(0).max(86_400_000).default(60_000),
  MAX_DEPTH: z.coerce.number().int().min(1).default(10),
  MAX_ALIASES: z.coerce.number().int().min(1).default(15),
  MAX_TOKENS: z.coerce.number().int().min(10).default(2000),
  MAX_COST: z.coerce.number().int().min(10).default(5000),
  MAX_DIRECTIVES: z.coerce.number().int().min(1).default(50),
});

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

/** The gateway's settings of `env`; throws ConfigError naming the first bad variable. */
export function parseGatewayConfig(env: Env = process.env): GatewayConfig {
  const config = parseEnv(gatewayConfigSchema, env);
  if (config.GATEWAY_CONCURRENCY_MIN > config.GATEWAY_CONCURRENCY_MAX) {
    throw new ConfigError('Invalid configuration: GATEWAY_CONCURRENCY_MIN: must not be above GATEWAY_CONCURRENCY_MAX');
  }
  if (config.GATEWAY_QUEUE_TARGET_MS !== undefined && config.GATEWAY_QUEUE_TARGET_MS > config.GATEWAY_QUEUE_TIMEOUT_MS) {
    throw new ConfigError('Invalid configuration: GATEWAY_QUEUE_TARGET_MS: must not be above GATEWAY_QUEUE_TIMEOUT_MS');
  }
  return config;
}

/** For the gateway's entry points: a bad value prints one line and exits 1. */
export const loadGatewayConfig = (env: Env = process.env): GatewayConfig => orExit(() => parseGatewayConfig(env));
