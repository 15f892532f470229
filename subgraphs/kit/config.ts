import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { z } from 'zod';

/**
 * Every process (gateway and subgraphs) reads its settings from the environment once, here.
 * A bad value stops the process with one line that names the variable.
 */
const bool = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1');

const port = z.coerce.number().int().min(0).max(65535);

/** proxy-addr's names for address ranges (Fastify's trustProxy understands them). */
const RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);
const isProxyAddress = (entry: string) => {
  if (RANGE_NAMES.has(entry)) return true;
  const [address, bits, ...rest] = entry.split('/');
  const family = isIP(address ?? '');
  if (!family || rest.length) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
};

/**
 * Which peers to believe when they send X-Forwarded-For: false (none: the socket peer is the
 * client), true (any), a hop count, or a comma-separated list of addresses, CIDRs and the names
 * loopback, linklocal, uniquelocal (private networks). Fastify's `trustProxy` takes the result.
 */
const trustedProxies = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine(
      (v) => /^(true|false|\d{1,2})$/.test(v) || v.split(',').every((s) => isProxyAddress(s.trim().toLowerCase())),
      'expected true, false, a hop count or a list of addresses/CIDRs (or loopback, linklocal, uniquelocal)',
    )
    .transform((v): boolean | number | string[] =>
      v === 'true' ? true : v === 'false' ? false : /^\d+$/.test(v) ? Number(v) : v.split(',').map((s) => s.trim().toLowerCase()),
    );

export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HOST: z.string().default('127.0.0.1'),
  /** Where embedded PostgreSQL data and development signing keys live. */
  DATA_DIR: z.string().default('.data'),

  /** App-role connection (no table ownership, no BYPASSRLS). Unset: embedded PGlite. */
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  /** Owner connection used only for migrations. Defaults to DATABASE_URL. */
  DATABASE_OWNER_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(500).default(10),
  /** Unset: in-memory cache and rate limits (one process only). */
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  REDIS_PREFIX: z.string().regex(/^[a-z0-9:_-]*$/i).default('bizosaas:'),
  CACHE_TTL_SECONDS: z.coerce.number().int().min(0).max(86_400).default(60),

  AUTH_ISSUER: z.string().min(1).default('https://auth.bizosaas.local'),
  AUTH_AUDIENCE: z.string().min(1).default('bizosaas-supergraph'),
  /** JWKS the subgraphs verify access tokens against. Defaults to the auth subgraph's. */
  AUTH_JWKS_URL: z.url().optional(),
  /** Private signing key (JWK JSON, EdDSA Ed25519 or ES256). Unset in development: generated into DATA_DIR. */
  AUTH_PRIVATE_JWK: z.string().optional(),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(3600).default(900),
  REFRESH_TOKEN_TTL_SECONDS: z.coerce.number().int().min(3600).default(30 * 86_400),
  LOGIN_MAX_FAILURES_PER_ACCOUNT: z.coerce.number().int().min(1).default(10),
  LOGIN_MAX_ATTEMPTS_PER_IP: z.coerce.number().int().min(1).default(100),
  LOGIN_WINDOW_SECONDS: z.coerce.number().int().min(1).default(900),
  /**
   * A subgraph's client IP (login and lead-form throttling) is the X-Forwarded-For the gateway
   * sets, believed only from these peers (see trustedProxies): by default loopback and the
   * private networks a gateway reaches its subgraphs over, so a caller from anywhere else that
   * reaches a subgraph directly cannot pick its own IP to dodge the per-IP limits.
   */
  TRUST_PROXY: trustedProxies('loopback,linklocal,uniquelocal'),

  GATEWAY_PORT: port.default(8001),
  /** Gateway processes sharing GATEWAY_PORT (node:cluster): a count, or `auto` for one per core. */
  GATEWAY_WORKERS: z
    .string()
    .regex(/^(auto|[1-9]\d{0,2})$/i, 'expected a worker count or auto')
    .default('1')
    .transform((v) => (v.toLowerCase() === 'auto' ? availableParallelism() : Number(v))),

  /** Real Saleor: its GraphQL URL and an App token. Unset: the stand-in on SALEOR_PORT. */
  SALEOR_API_URL: z.url().optional(),
  SALEOR_APP_TOKEN: z.string().min(1).default('dev-saleor-app-token'),

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
   * CPU is saturated) and MAX (it is not); past QUEUE_MAX waiting ones the gateway answers 503.
   */
  GATEWAY_CONCURRENCY_MIN: z.coerce.number().int().min(1).max(10_000).default(2),
  GATEWAY_CONCURRENCY_MAX: z.coerce.number().int().min(1).max(10_000).default(512),
  GATEWAY_QUEUE_MAX: z.coerce.number().int().min(0).max(100_000).default(2048),
  SUBGRAPH_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
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
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(50 * 1024 * 1024).default(1024 * 1024),
  INTROSPECTION: bool.optional(),
  RATE_LIMIT_PER_MINUTE_IP: z.coerce.number().int().min(1).default(1200),
  RATE_LIMIT_PER_MINUTE_TENANT: z.coerce.number().int().min(1).default(6000),
  /**
   * How often the gateway adds the hits it counted locally to Redis (gateway/rate-limit.ts), ms;
   * 0 counts every request in Redis before answering it.
   */
  GATEWAY_RATE_LIMIT_SYNC_MS: z.coerce.number().int().min(0).max(10_000).default(100),
  MAX_DEPTH: z.coerce.number().int().min(1).default(10),
  MAX_ALIASES: z.coerce.number().int().min(1).default(15),
  MAX_TOKENS: z.coerce.number().int().min(10).default(2000),
  MAX_COST: z.coerce.number().int().min(10).default(5000),
  MAX_DIRECTIVES: z.coerce.number().int().min(1).default(50),

  /** CMS media uploads: the largest file accepted, in bytes (default 20 MiB). */
  MEDIA_MAX_BYTES: z.coerce.number().int().min(1024).max(1024 * 1024 * 1024).default(20 * 1024 * 1024),
  /** Public base URL of CMS media URLs (`<base>/media/<tenant>/<asset>/<file>`). Default: the CMS subgraph's own address. */
  MEDIA_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** How often the CMS publishes pages whose scheduled time has come. */
  CMS_SCHEDULER_INTERVAL_MS: z.coerce.number().int().min(50).max(3_600_000).default(5_000),

  DEMO_PASSWORD: z.string().min(8).default('bizosaas-demo-2026'),
  /** Demo tenants and logins. Default: on outside production, off in production. */
  DEMO_DATA: bool.optional(),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {}

/** Parses the environment; throws ConfigError whose message is one line naming the variable. */
export function parseConfig(env: Record<string, string | undefined> = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = configSchema.safeParse(cleaned);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    throw new ConfigError(`Invalid configuration: ${name}: ${issue.message}`);
  }
  if (result.data.GATEWAY_CONCURRENCY_MIN > result.data.GATEWAY_CONCURRENCY_MAX) {
    throw new ConfigError('Invalid configuration: GATEWAY_CONCURRENCY_MIN: must not be above GATEWAY_CONCURRENCY_MAX');
  }
  return result.data;
}

/** For process entry points: a bad value prints one line and exits 1. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  try {
    return parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

export const isProduction = (config: Config) => config.NODE_ENV === 'production';

/** Whether to write demo data: DEMO_DATA when set, else everywhere but production. */
export const demoDataEnabled = (config: Config) => config.DEMO_DATA ?? !isProduction(config);

/**
 * Per-subgraph settings, read the same way for every subgraph so that a new subgraph needs no
 * change here: `<NAME>_PORT` (listen port, default from its definition) and `<NAME>_URL`
 * (where the gateway reaches it, default from supergraph.yaml).
 */
export function subgraphPort(name: string, fallback: number, env: Record<string, string | undefined> = process.env) {
  const variable = `${name.toUpperCase()}_PORT`;
  const raw = env[variable];
  if (raw === undefined || raw === '') return fallback;
  const parsed = port.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`Invalid configuration: ${variable}: expected a port number`);
  return parsed.data;
}

export function subgraphUrl(name: string, fallback: string, env: Record<string, string | undefined> = process.env) {
  const variable = `${name.toUpperCase()}_URL`;
  const raw = env[variable];
  if (raw === undefined || raw === '') return fallback;
  const parsed = z.url({ protocol: /^https?$/ }).safeParse(raw);
  if (!parsed.success) throw new ConfigError(`Invalid configuration: ${variable}: expected an http(s) URL`);
  return parsed.data;
}
