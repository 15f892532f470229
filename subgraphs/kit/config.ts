import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * The settings every process (gateway and subgraphs) shares, read from the environment once.
 * A process's own settings live with it: the gateway's in gateway/config.ts, a subgraph's in its
 * definition (`settings`, e.g. subgraphs/auth/settings.ts), parsed by `parseEnv` the same way.
 * A bad value stops the process with one line that names the variable.
 */
export type Env = Record<string, string | undefined>;

export const bool = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1');

export const port = z.coerce.number().int().min(0).max(65535);

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
export const trustedProxies = (fallback: string) =>
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
  /**
   * Unset (and no REDIS_CLUSTER_NODES): in-memory cache and rate limits (one process only).
   * `redis+cluster://` (or `rediss+cluster://`, TLS) names one node of a Redis Cluster: the
   * client finds the others (kit/redis.ts).
   */
  REDIS_URL: z.url({ protocol: /^rediss?(\+cluster)?$/ }).optional(),
  /**
   * A Redis Cluster's nodes to start from, comma-separated `host:port` (at least one; the client
   * discovers the rest). Wins over a REDIS_URL's host; a REDIS_URL's user, password and TLS
   * still apply to every node.
   */
  REDIS_CLUSTER_NODES: z
    .string()
    .refine(
      (v) => v.split(',').every((node) => /^[^\s:,]+:\d{1,5}$/.test(node.trim())),
      'expected a comma-separated list of host:port',
    )
    .transform((v) => v.split(',').map((node) => node.trim()))
    .optional(),
  REDIS_PREFIX: z.string().regex(/^[a-z0-9:_-]*$/i).default('bizosaas:'),
  CACHE_TTL_SECONDS: z.coerce.number().int().min(0).max(86_400).default(60),

  AUTH_ISSUER: z.string().min(1).default('https://auth.bizosaas.local'),
  AUTH_AUDIENCE: z.string().min(1).default('bizosaas-supergraph'),
  /** JWKS the subgraphs verify access tokens against. Defaults to the auth subgraph's. */
  AUTH_JWKS_URL: z.url().optional(),
  /**
   * A subgraph's client IP (login and lead-form throttling) is the X-Forwarded-For the gateway
   * sets, believed only from these peers (see trustedProxies): by default loopback and the
   * private networks a gateway reaches its subgraphs over, so a caller from anywhere else that
   * reaches a subgraph directly cannot pick its own IP to dodge the per-IP limits.
   */
  TRUST_PROXY: trustedProxies('loopback,linklocal,uniquelocal'),

  /** Real Saleor: its GraphQL URL and an App token. Unset: the stand-in on SALEOR_PORT. */
  SALEOR_API_URL: z.url().optional(),
  SALEOR_APP_TOKEN: z.string().min(1).default('dev-saleor-app-token'),

  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(50 * 1024 * 1024).default(1024 * 1024),
  /**
   * JSON a process accepts (bodies, GET `variables`, GraphQL variables; kit/json-limits.ts):
   * arrays and objects nested at most this deep, scanned before JSON.parse. A GraphQL body nests
   * its variables two levels down; an entity fetch's representations four.
   */
  JSON_MAX_DEPTH: z.coerce.number().int().min(4).max(1_000).default(32),
  /**
   * Elements of one JSON array or members of one object, scanned before JSON.parse. Subgraphs
   * need room for the gateway's entity fetches (one representation per distinct entity: a page
   * of 100 rows each referencing 50 products is 5,000).
   */
  JSON_MAX_ITEMS: z.coerce.number().int().min(100).max(1_000_000).default(10_000),
  /** Names in a GraphQL operation's `variables` (a subgraph gets the client's plus `representations`). */
  MAX_VARIABLES: z.coerce.number().int().min(1).max(10_000).default(100),
  /** Characters of one string anywhere in a GraphQL operation's variables. */
  MAX_VARIABLE_STRING_LENGTH: z.coerce.number().int().min(256).max(50 * 1024 * 1024).default(65_536),
  /**
   * Brackets (`{ ( [`) nested in a GraphQL document, scanned before it is parsed (the parser
   * recurses; the gateway's MAX_DEPTH counts fields after parsing). Planned subgraph fetches nest
   * deeper than the client's operation (inline fragments, entity fetches), hence the room.
   */
  GRAPHQL_MAX_NESTING: z.coerce.number().int().min(8).max(1_000).default(64),
  /**
   * Tokens of a document a subgraph parses (the gateway has its own MAX_TOKENS for clients'). A
   * planned fetch can be larger than the client's operation; this bounds what a caller that
   * reaches a subgraph directly can make it parse and validate.
   */
  SUBGRAPH_MAX_TOKENS: z.coerce.number().int().min(1_000).max(10_000_000).default(20_000),
  INTROSPECTION: bool.optional(),

  DEMO_PASSWORD: z.string().min(8).default('bizosaas-demo-2026'),
  /** Demo tenants and logins. Default: on outside production, off in production. */
  DEMO_DATA: bool.optional(),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {}

/**
 * Parses `env` with a settings schema (empty values count as unset); throws ConfigError whose
 * message is one line naming the first bad variable.
 */
export function parseEnv<S extends z.ZodType>(schema: S, env: Env = process.env): z.output<S> {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    throw new ConfigError(`Invalid configuration: ${name}: ${issue.message}`);
  }
  return result.data;
}

/** The shared settings of `env`; throws ConfigError (see parseEnv). */
export const parseConfig = (env: Env = process.env): Config => parseEnv(configSchema, env);

/** For process entry points: a ConfigError prints its one line and exits 1; anything else is rethrown. */
export function exitOnConfigError(error: unknown): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

/** `read()`, or (on a ConfigError) its one line on stderr and exit 1. */
export function orExit<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    return exitOnConfigError(error);
  }
}

export const loadConfig = (env: Env = process.env): Config => orExit(() => parseConfig(env));

export const isProduction = (config: Config) => config.NODE_ENV === 'production';

/** Whether to write demo data: DEMO_DATA when set, else everywhere but production. */
export const demoDataEnabled = (config: Config) => config.DEMO_DATA ?? !isProduction(config);

/**
 * Per-subgraph settings, read the same way for every subgraph so that a new subgraph needs no
 * change here: `<NAME>_PORT` (listen port, default from its definition) and `<NAME>_URL`
 * (where the gateway reaches it, default from supergraph.yaml).
 */
export function subgraphPort(name: string, fallback: number, env: Env = process.env) {
  const variable = `${name.toUpperCase()}_PORT`;
  const raw = env[variable];
  if (raw === undefined || raw === '') return fallback;
  const parsed = port.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`Invalid configuration: ${variable}: expected a port number`);
  return parsed.data;
}

export function subgraphUrl(name: string, fallback: string, env: Env = process.env) {
  const variable = `${name.toUpperCase()}_URL`;
  const raw = env[variable];
  if (raw === undefined || raw === '') return fallback;
  const parsed = z.url({ protocol: /^https?$/ }).safeParse(raw);
  if (!parsed.success) throw new ConfigError(`Invalid configuration: ${variable}: expected an http(s) URL`);
  return parsed.data;
}
