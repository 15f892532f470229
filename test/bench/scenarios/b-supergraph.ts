/**
 * Scenario B: our real supergraph (auth, crm, cms and the saleor stand-in, composed from
 * schema/) behind our gateway, against real PostgreSQL and Redis, with an authenticated
 * request mix. It has its own runner (`runScenarioB`, called by run.ts for `--scenario B`)
 * because it needs what scenario A's generic loop has no place for: a fresh database, a login,
 * several request types and the subgraph response cache warm and cold.
 *
 * - A fresh database `bizosaas_bench_<random>` owned by bizosaas_owner (as test/support/services.ts
 *   makes them), migrated and seeded with the demo data, dropped afterwards; real Redis with a
 *   key prefix unique to the run, its keys deleted afterwards.
 * - One process per subgraph (targets/supergraph-subgraphs.ts --only, as docker/compose.yaml
 *   deploys them) after one --prepare run (migrations, demo data, ANALYZE); the gateway in
 *   another (targets/supergraph-gateway.ts; NODE_ENV=production, LOG_LEVEL=warn, the production
 *   node flags, rate limits far above the load, no response cache of its own). Nothing pinned
 *   (the OS schedules every process over both CPUs) unless --pin (scenario A's layout).
 * - After the processes start, every request type runs in a closed loop for --jit-warmup
 *   seconds (V8 optimises a function after thousands of calls), then at a quarter of the rate,
 *   neither counted (steady state: optimised code, filled pools); then each type's window,
 *   after its own warm-up at the full rate. The open model runs --rounds times, types
 *   interleaved (medians).
 * - Requests, as owner@acme.example (logged in once for the token): leads with their owners'
 *   emails (crm: it provides them, kit/accounts.ts), a content page with its author's email and
 *   featured products (cms + saleor), products of a channel (saleor), the REST shim's leads
 *   list, and the login mutation (argon2).
 * - Cache warm: the subgraphs' Redis response cache on (CACHE_TTL_SECONDS=60, the default) and
 *   the same request repeated. Cache cold: the subgraphs restarted on the same ports with
 *   CACHE_TTL_SECONDS=0, so every request reaches PostgreSQL.
 * - Every response is checked: status 200, no `errors`, the expected shape (checker below).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from '../../support/ports.ts';
import { createPostgresDatabase } from '../../support/services.ts';
import { createTestKeys } from '../../support/deps.ts';
import { LoadGenerator } from '../lib/load-client.ts';
import type { LoadResult } from '../lib/load-worker.ts';
import type { ManyConnectionsJob, ManyConnectionsResult } from '../lib/many-connections-worker.ts';
import { gitRevision, loadAverage, machineInfo, packageVersions } from '../lib/machine.ts';
import { cpuMeter, peakRssMiB } from '../lib/proc-stats.ts';
import { execFileSync } from 'node:child_process';
import { GATEWAY_CPU, HAS_TASKSET, spawnNode, SUPPORT_CPU, variantBuild, waitUntil, type Child } from '../lib/processes.ts';
import { productionNodeFlags } from '../../../gateway/node-flags.ts';
import { findProfile, renderProfile, summariseProfile } from '../lib/profile.ts';
import { deleteRedisKeys } from '../lib/redis-keys.ts';
import { updateMarkdown } from '../lib/report.ts';
import { snapshot, split, type Snapshot, type SubgraphSplit } from '../lib/latency-split.ts';
import type { ResponseChecker, Scenario } from './types.ts';

/** The run's shared secret of auth and agents (required in production). */
const DELEGATION_SECRET = randomBytes(32).toString('base64url');

export const DEMO_EMAIL = 'owner@acme.example';
export const DEMO_PASSWORD = 'bizosaas-demo-2026';

const gqlBody = (query: string, variables?: Record<string, unknown>) => JSON.stringify(variables ? { query, variables } : { query });

export interface RequestType {
  id: string;
  label: string;
  method: 'GET' | 'POST';
  path: string;
  body?: string;
  /** Sends the bearer token. */
  auth: boolean;
}

export const REQUEST_TYPES: RequestType[] = [
  {
    id: 'leads',
    label: '`leads(first: 50) { name owner { email } }` (crm)',
    method: 'POST',
    path: '/graphql',
    body: gqlBody('query Leads { leads(first: 50) { edges { node { name owner { email } } } } }'),
    auth: true,
  },
  {
    id: 'page',
    label: '`contentPage(path: "/home") { author, featuredProducts }` (cms + saleor)',
    method: 'POST',
    path: '/graphql',
    body: gqlBody('query Page { contentPage(path: "/home") { title urlPath author { email } featuredProducts { id name } } }'),
    auth: true,
  },
  {
    id: 'products',
    label: '`products(first: 20, channel: "acme-channel")` (saleor)',
    method: 'POST',
    path: '/graphql',
    body: gqlBody('query Products { products(first: 20, channel: "acme-channel") { edges { node { id name } } } }'),
    auth: true,
  },
  { id: 'rest-leads', label: 'REST `GET /api/brain/django-crm/leads` (crm via the REST shim)', method: 'GET', path: '/api/brain/django-crm/leads', auth: true },
  {
    id: 'login',
    label: '`login` mutation (auth, argon2)',
    method: 'POST',
    path: '/graphql',
    body: gqlBody('mutation Login($email: String!, $password: String!) { login(email: $email, password: $password) { accessToken } }', {
      email: DEMO_EMAIL,
      password: DEMO_PASSWORD,
    }),
    auth: false,
  },
];

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const nonEmptyArray = (x: unknown): x is unknown[] => Array.isArray(x) && x.length > 0;

/** Which request type a body answers, judged by its shape; null when it is wrong. */
export function classify(body: string): string | null {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return null;
  }
  if (!isObject(json)) return null;
  // REST (Django REST framework list): {count, next, previous, results}.
  if ('results' in json) {
    const results = json.results;
    return typeof json.count === 'number' && nonEmptyArray(results) && results.every((r) => isObject(r) && typeof r.name === 'string') ? 'rest-leads' : null;
  }
  if (json.errors !== undefined || !isObject(json.data)) return null;
  const data = json.data;
  if (isObject(data.leads)) {
    const edges = data.leads.edges;
    const ok =
      nonEmptyArray(edges) &&
      edges.every((e) => isObject(e) && isObject(e.node) && typeof e.node.name === 'string' && (e.node.owner === null || (isObject(e.node.owner) && typeof e.node.owner.email === 'string'))) &&
      edges.some((e) => isObject((e as { node: { owner: unknown } }).node.owner));
    return ok ? 'leads' : null;
  }
  if (isObject(data.contentPage)) {
    const page = data.contentPage;
    const ok =
      typeof page.title === 'string' &&
      page.urlPath === '/home' &&
      isObject(page.author) &&
      typeof page.author.email === 'string' &&
      nonEmptyArray(page.featuredProducts) &&
      page.featuredProducts.every((p) => isObject(p) && typeof p.name === 'string');
    return ok ? 'page' : null;
  }
  if (isObject(data.products)) {
    const edges = data.products.edges;
    return nonEmptyArray(edges) && edges.every((e) => isObject(e) && isObject(e.node) && typeof e.node.name === 'string') ? 'products' : null;
  }
  if (isObject(data.login)) return typeof data.login.accessToken === 'string' && data.login.accessToken.length > 20 ? 'login' : null;
  return null;
}

/** 'exact' for a right body of any of the request types (each job sends one type only). */
const supergraphChecker = (): ResponseChecker => (body) => (classify(body) ? 'exact' : 'mismatch');

/**
 * Registered so the load generator finds B's checker by id; its request and (empty) target list
 * are not used by run.ts's generic loop, which hands `--scenario B` to runScenarioB.
 */
export const scenarioB: Scenario = {
  id: 'B',
  title: 'Scenario B: our supergraph (auth, CRM, CMS, saleor stand-in) on PostgreSQL and Redis',
  fixture: null,
  targets: [],
  baseline: 'ours',
  request: { method: 'POST', path: '/graphql', headers: { 'content-type': 'application/json' }, body: REQUEST_TYPES[0]!.body! },
  checker: supergraphChecker,
};


// ---------------------------------------------------------------------------------------------
// The runner.

const targetScript = (name: string) => fileURLToPath(new URL(`../targets/${name}.ts`, import.meta.url));
/** Rate limits far above anything the benchmark sends: checked on every request, never throttling. */
const UNTHROTTLED = '1000000000';
/** Closed model for login: enough to keep argon2 busy, few enough not to queue past the subgraph timeout. */
const LOGIN_CONNECTIONS = 4;
/** The JIT warm-up's closed loop: few connections, so the gateway's operation dedup shares few requests and the subgraphs see most. */
const JIT_WARMUP_CONNECTIONS = 4;
/** The second warm-up phase's offered rate: a quarter of the run's. */
const warmupRate = (options: ScenarioBOptions) => Math.max(1, Math.round(options.rate / 4));
const ADMIN_URL = process.env.BENCH_DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export interface ScenarioBOptions {
  seconds: number;
  warmupSeconds: number;
  /** Per request type after the processes start: a closed loop this long, not counted, so V8 has optimised the hot paths (0: none). */
  jitWarmupSeconds: number;
  connections: number;
  rate: number;
  /** The login mutation's offered rate (argon2 bounds it far below `rate`). */
  loginRate: number;
  models: ('closed' | 'open')[];
  caches: ('warm' | 'cold')[];
  types: string[] | null;
  redisUrl: string;
  command: string;
  jsonFile: string | null;
  markdownFile: string | null;
  /** Open-model runs per request type and cache state (the report gives medians). */
  rounds: number;
  /** Scenario A's CPU layout (gateway alone on one CPU) instead of letting the OS schedule. */
  pin: boolean;
  /** Processes to run under `node --cpu-prof` ('subgraphs', 'gateway'); a summary is printed at the end. */
  profile?: string[];
  /**
   * Scenario D instead of B's per-type runs: many open connections at a total rate of B's mix.
   * `timeoutMs`: the load generator's client timeout. `compareAdmission`: a git revision; a second
   * gateway runs this tree with that revision's gateway/admission.ts, and each round loads both,
   * in turn (a before/after of admission control within one run).
   */
  manyConnections?: { connections: number; rate: number; types: string[]; timeoutMs?: number; compareAdmission?: string | null } | null;
}

export interface BMeasurement {
  type: string;
  cache: 'warm' | 'cold';
  model: 'closed' | 'open';
  round: number;
  load: LoadResult;
  gatewayCpu: number;
  subgraphCpu: number;
  postgresCpu: number;
  gatewayPeakRssMiB: number;
  /** Per subgraph: the gateway's fetch time against the subgraph's own (optional: runs before subgraphs had /metrics). */
  split?: SubgraphSplit[];
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const raise = (message: string): never => {
  throw new Error(message);
};


export async function runScenarioB(options: ScenarioBOptions): Promise<number> {
  const started = Date.now();
  const loadBefore = loadAverage();
  const prefix = `bench-b-${process.pid}-${Date.now().toString(36)}:`;
  const keys = await createTestKeys();
  const { subgraphNames } = await import('../../../subgraphs/kit/registry.ts');
  const names = subgraphNames();
  const ports = await freePorts(names.length + 2);
  const subgraphPorts = Object.fromEntries(names.map((n, i) => [n, ports[i]!]));
  const gatewayPort = ports[names.length]!;
  const base = `http://127.0.0.1:${gatewayPort}`;
  const db = await createPostgresDatabase(ADMIN_URL, 'bizosaas_bench');
  log(`scenario B: database ${db.name}, redis prefix ${prefix}, subgraphs ${JSON.stringify(subgraphPorts)}, gateway :${gatewayPort}`);
  const workDir = mkdtempSync(join(tmpdir(), 'bizosaas-bench-b-'));
  const common = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    REDIS_URL: options.redisUrl,
    REDIS_PREFIX: prefix,
    RATE_LIMIT_PER_MINUTE_IP: UNTHROTTLED,
    RATE_LIMIT_PER_MINUTE_TENANT: UNTHROTTLED,
  };
  let subgraphs: Child[] = [];
  let previousCache = '';
  let gateway: Child | null = null;
  /** --compare-admission: the same gateway with another revision's admission control. */
  let compared: { child: Child; base: string; label: string } | null = null;
  let generator: LoadGenerator | null = null;
  const measurements: BMeasurement[] = [];
  // --pin: the layout of scenario A (gateway alone on one CPU, the rest on the other); default:
  // nothing pinned, the OS schedules every process over both CPUs, as on a deployed machine.
  const cpuOf = (role: 'gateway' | 'support') => (options.pin ? (role === 'gateway' ? GATEWAY_CPU : SUPPORT_CPU) : null);
  // --profile: measured windows (wall clock) and each profiled process's exit time, to keep only load samples.
  const profiled = new Set(options.profile ?? []);
  const profileDir = (id: string) => join(workDir, 'profiles', id);
  const isProfiled = (id: string) => {
    const name = id.replace(/-(warm|cold)$/, '');
    return profiled.has(name) || (name !== 'gateway' && profiled.has('subgraphs'));
  };
  const profileFlags = (id: string) => (isProfiled(id) ? ['--cpu-prof', '--cpu-prof-dir', profileDir(id)] : []);
  const windows: { from: number; to: number }[] = [];
  const profiles: { id: string; endedAtMs: number }[] = [];
  const dResults: DResult[] = [];
  let exitCode = 0;

  const subgraphEnv = (cache: 'warm' | 'cold') => ({
    ...common,
    DATABASE_URL: db.appUrl,
    DATABASE_OWNER_URL: db.ownerUrl,
    AUTH_PRIVATE_JWK: JSON.stringify(keys.privateJwk),
    AUTH_JWKS_URL: `http://127.0.0.1:${subgraphPorts.auth}/.well-known/jwks.json`,
    DEMO_DATA: 'true',
    LOGIN_MAX_ATTEMPTS_PER_IP: UNTHROTTLED,
    LOGIN_MAX_FAILURES_PER_ACCOUNT: UNTHROTTLED,
    CACHE_TTL_SECONDS: cache === 'warm' ? '60' : '0',
    // bi's share links need a secret in production; the stand-in's order webhooks go to this gateway.
    // Auth and agents share it in production (agents' runs act through auth's /internal/delegate).
    AUTH_DELEGATION_SECRET: DELEGATION_SECRET,
    BI_SHARE_LINK_SECRET: randomBytes(32).toString('base64url'),
    SALEOR_WEBHOOK_TARGET_URL: `${base}/webhooks/saleor`,
  });
  /** Migrations and demo data, once, before any subgraph serves. */
  const prepare = async () => {
    const child = spawnNode({ name: 'prepare', script: targetScript('supergraph-subgraphs'), args: ['--prepare'], env: subgraphEnv('cold'), cpu: null });
    const code = await new Promise<number | null>((resolve) => child.process.once('exit', resolve));
    if (code !== 0) throw new Error(`migrating and seeding failed (${code}):\n${child.tail()}`);
  };
  /** One process per subgraph, as docker/compose.yaml deploys them. */
  const startSubgraphs = async (cache: 'warm' | 'cold') => {
    const started = names.map((name) => {
      const readyFile = join(workDir, `ready-${name}-${cache}.json`);
      const child = spawnNode({
        name: `${name} (${cache})`,
        script: targetScript('supergraph-subgraphs'),
        args: ['--ports', JSON.stringify(subgraphPorts), '--only', name, '--ready-file', readyFile],
        env: subgraphEnv(cache),
        cpu: cpuOf('support'),
        nodeFlags: profileFlags(`${name}-${cache}`),
      });
      return { name, child, readyFile };
    });
    const urls: Record<string, string> = {};
    for (const { child, readyFile } of started) {
      await waitUntil(child, async () => existsSync(readyFile), 180_000);
      Object.assign(urls, JSON.parse(readFileSync(readyFile, 'utf8')) as Record<string, string>);
    }
    return { children: started.map((s) => s.child), urls };
  };
  const subgraphPids = () => Object.fromEntries(subgraphs.map((c, i) => [`subgraph${i}`, c.pid]));
  const sumSubgraphs = (cpu: Record<string, number>) => subgraphs.reduce((n, _c, i) => n + (cpu[`subgraph${i}`] ?? 0), 0);
  const stopSubgraphs = async () => {
    for (const child of subgraphs) await child.stop();
    const ended = Date.now();
    for (const name of names) profiles.push({ id: `${name}-${previousCache}`, endedAtMs: ended });
    subgraphs = [];
  };

  const login = async () => {
    const type = REQUEST_TYPES.find((t) => t.id === 'login')!;
    const response = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: type.body });
    const json = (await response.json()) as { data?: { login?: { accessToken?: string } }; errors?: unknown };
    const token = json.data?.login?.accessToken;
    if (!token) throw new Error(`login failed: ${response.status} ${JSON.stringify(json).slice(0, 500)}`);
    return token;
  };
  const spec = (type: RequestType, token: string) => ({
    method: type.method as 'POST',
    path: type.path,
    headers: { ...(type.body ? { 'content-type': 'application/json' } : {}), ...(type.auth ? { authorization: `Bearer ${token}` } : {}) },
    body: type.body ?? '',
  });

  try {
    generator = await LoadGenerator.start(cpuOf('support'));
    await prepare();
    for (const cache of options.caches) {
      if (subgraphs.length) await stopSubgraphs();
      previousCache = cache;
      const started = await startSubgraphs(cache);
      subgraphs = started.children;
      log(`subgraphs up (${cache}: CACHE_TTL_SECONDS=${cache === 'warm' ? 60 : 0}), pids ${subgraphs.map((c) => c.pid).join(', ')}`);
      if (!gateway) {
        gateway = spawnNode({
          name: 'gateway',
          script: targetScript('supergraph-gateway'),
          args: ['--port', String(gatewayPort), '--subgraphs', JSON.stringify(started.urls)],
          env: { ...common, CACHE_TTL_SECONDS: '0' },
          cpu: cpuOf('gateway'),
          nodeFlags: [...productionNodeFlags(), ...profileFlags('gateway')],
        });
      }
      const rev = options.manyConnections?.compareAdmission;
      if (rev && !compared) {
        const comparedPort = ports[names.length + 1]!;
        compared = {
          child: spawnNode({
            name: `gateway (admission of ${rev})`,
            script: targetScript('supergraph-gateway'),
            build: variantBuild(`admission-${rev}`, { 'gateway/admission.ts': await admissionOf(rev) }),
            args: ['--port', String(comparedPort), '--subgraphs', JSON.stringify(started.urls)],
            env: { ...common, CACHE_TTL_SECONDS: '0' },
            cpu: cpuOf('gateway'),
            nodeFlags: productionNodeFlags(),
          }),
          base: `http://127.0.0.1:${comparedPort}`,
          label: `admission of ${rev}`,
        };
      }
      let token = '';
      await waitUntil(gateway, async () => ((token = await login()), true), 120_000);
      log(`gateway up (pid ${gateway.pid}), logged in as ${DEMO_EMAIL}`);
      if (compared) {
        const { child } = compared;
        await waitUntil(child, async () => (await fetch(`${compared!.base}/health`)).ok, 120_000);
        log(`${child.name} up (pid ${child.pid})`);
      }
      // Both gateways, when two are compared: [label, base, process].
      const gateways: [string, string, Child][] = [[compared ? 'this tree' : 'ours', base, gateway], ...(compared ? [[compared.label, compared.base, compared.child] as [string, string, Child]] : [])];
      const typeIds = options.manyConnections?.types ?? options.types;
      const types = typeIds ? typeIds.map((id) => REQUEST_TYPES.find((t) => t.id === id) ?? raise(`unknown request type ${id}`)) : REQUEST_TYPES;
      // Freshly started processes run interpreted code and fill their connection pools: offered
      // 200 requests/s at once they fall behind, and the backlog takes tens of seconds to drain
      // (a first run measured p99 1.7 s). And V8 optimises a function only after it has run
      // many times: a subgraph that has served a few hundred requests still runs baseline code
      // and compiles in the background (auth's owners at 60/s: 2.3 CPU ms a request in its first
      // 20 s, 1.2-1.5 after 100 s). So every type first runs in a closed loop for
      // --jit-warmup seconds (thousands of requests), then at a quarter of the rate, neither
      // counted: the numbers below are the steady state of long-running processes.
      for (const [label, url] of gateways)
      for (const type of types) {
        if (type.id === 'login') continue;
        const request = spec(type, token);
        const body = type.method === 'GET' ? { ...request, body: undefined as unknown as string } : request;
        if (options.jitWarmupSeconds > 0) {
          const jit = await generator.run({ url, requests: [body], scenario: 'B', model: 'closed', connections: JIT_WARMUP_CONNECTIONS, warmupSeconds: 0, seconds: options.jitWarmupSeconds });
          log(`JIT warm-up ${cache} ${type.id}${compared ? ` (${label})` : ''}: ${jit.responses} requests in ${options.jitWarmupSeconds} s, errors ${jit.errors.total}`);
        }
        const warm = await generator.run({
          url,
          requests: [body],
          scenario: 'B',
          model: 'open',
          warmupSeconds: 1,
          seconds: options.warmupSeconds,
          rate: warmupRate(options),
        });
        log(`warm-up ${cache} ${type.id}${compared ? ` (${label})` : ''} at ${warmupRate(options)}/s: p99 ${warm.latencyMs.p99} ms, errors ${warm.errors.total}`);
      }
      if (options.manyConnections) {
        const d = options.manyConnections;
        // Rounds, each loading every gateway once; the order alternates from round to round.
        for (let round = 0; round < options.rounds; round++)
        for (const [label, url, target] of round % 2 ? [...gateways].reverse() : gateways) {
        const job: ManyConnectionsJob = {
          url,
          requests: d.types.map((id) => {
            const type = REQUEST_TYPES.find((t) => t.id === id)!;
            const { body, ...rest } = spec(type, token);
            return { type: id, ...rest, method: type.method, ...(type.method === 'POST' ? { body } : {}) };
          }),
          connections: d.connections,
          rate: d.rate,
          warmupSeconds: options.warmupSeconds,
          seconds: options.seconds,
          timeoutMs: d.timeoutMs,
        };
        const jobFile = join(workDir, `d-${cache}-${round}-${gateways.findIndex((g) => g[1] === url)}.json`);
        const resultFile = jobFile.replace(/\.json$/, '-result.json');
        writeFileSync(jobFile, JSON.stringify(job));
        // The whole worker run (connections opened, warm-up, window): its CPU and profile samples.
        const meter = cpuMeter({ gateway: target.pid, ...subgraphPids() }, [], ['postgres', 'redis-server']);
        windows.push({ from: Date.now(), to: Infinity });
        const worker = spawnNode({ name: 'many-connections load generator', script: fileURLToPath(new URL('../lib/many-connections-worker.ts', import.meta.url)), args: [jobFile, resultFile], cpu: cpuOf('support') });
        await new Promise<void>((resolve) => worker.process.once('exit', () => resolve()));
        const cpu = meter();
        windows[windows.length - 1]!.to = Date.now();
        if (!existsSync(resultFile)) throw new Error(`many-connections load generator failed:\n${worker.tail()}`);
        const result = JSON.parse(readFileSync(resultFile, 'utf8')) as ManyConnectionsResult;
        dResults.push({ cache, ...(compared ? { gateway: label } : {}), result, gatewayCpu: cpu.gateway!, subgraphCpu: sumSubgraphs(cpu), postgresCpu: cpu.postgres!, redisCpu: cpu['redis-server']!, gatewayPeakRssMiB: peakRssMiB(target.pid) });
        if (result.errors.total) exitCode = 1;
        log(`D ${cache}${compared ? ` ${label}` : ''}: ${JSON.stringify(result)}`);
        }
        continue;
      }
      // In the order of --types when given (so any type can go first after a start).
      for (let round = 0; round < options.rounds; round++)
      for (const type of types) {
        // Every type answers right once before its load (and fills the cache when it is on).
        const request = spec(type, token);
        const probe = await fetch(`${base}${request.path}`, { method: request.method, headers: request.headers, body: type.method === 'GET' ? undefined : request.body });
        const probeBody = await probe.text();
        if (probe.status !== 200 || classify(probeBody) !== type.id) throw new Error(`${type.id}: unexpected answer ${probe.status} ${probeBody.slice(0, 500)}`);
        // Login: argon2 (64 MiB) on the subgraphs' CPU serves a few per second. Its open run goes
        // first (a closed run's queue would still be draining into it), and its closed run uses
        // LOGIN_CONNECTIONS (50 queued logins would wait past the gateway's subgraph timeout).
        // The closed model (the ceiling) runs in the first round only; the open model every round.
        const roundModels = round === 0 ? options.models : options.models.filter((m) => m === 'open');
        const models = type.id === 'login' ? [...roundModels].sort((a) => (a === 'open' ? -1 : 1)) : roundModels;
        for (const model of models) {
          const rate = type.id === 'login' ? options.loginRate : options.rate;
          let meter: (() => Record<string, number>) | null = null;
          let cpu: Record<string, number> = {};
          let snapshots: Promise<Snapshot>[] = [];
          const load = await generator.run(
            {
              url: base,
              requests: [type.method === 'GET' ? { ...request, body: undefined as unknown as string } : request],
              scenario: 'B',
              model,
              warmupSeconds: options.warmupSeconds,
              seconds: options.seconds,
              connections: type.id === 'login' ? Math.min(LOGIN_CONNECTIONS, options.connections) : options.connections,
              rate,
            },
            (mark) => {
              if (mark === 'start') {
                meter = cpuMeter({ gateway: gateway!.pid, ...subgraphPids() }, [SUPPORT_CPU, GATEWAY_CPU], ['postgres', 'redis-server']);
                windows.push({ from: Date.now(), to: Infinity });
                snapshots = [snapshot(base, started.urls)];
              } else {
                cpu = meter!();
                windows[windows.length - 1]!.to = Date.now();
                snapshots.push(snapshot(base, started.urls));
              }
            },
          );
          const splits = await Promise.all(snapshots).then(([before, after]) => split(before!, after!)).catch((error: Error) => {
            log(`(no latency split: ${error.message})`);
            return undefined;
          });
          const m: BMeasurement = { type: type.id, cache, model, round: round + 1, load, gatewayCpu: cpu.gateway!, subgraphCpu: sumSubgraphs(cpu), postgresCpu: cpu.postgres!, gatewayPeakRssMiB: peakRssMiB(gateway.pid), split: splits };
          measurements.push(m);
          if (load.errors.total) exitCode = 1;
          log(
            `round ${round + 1}/${options.rounds} ${cache} ${type.id} ${model}${model === 'open' ? ` ${rate}/s` : ''}: ${load.rps.toFixed(1)} rps, p50 ${load.latencyMs.p50} p95 ${load.latencyMs.p95} p99 ${load.latencyMs.p99} ms, ` +
              `errors ${load.errors.total}${load.warmupErrors ? ` (+${load.warmupErrors} warm-up)` : ''}${load.firstMismatch ? ` first bad: ${load.firstMismatch.slice(0, 300)}` : ''}, gateway cpu ${m.gatewayCpu.toFixed(2)}, subgraphs cpu ${m.subgraphCpu.toFixed(2)} (${subgraphs.map((_c, i) => `${names[i]} ${(cpu[`subgraph${i}`] ?? 0).toFixed(3)}`).join(', ')}), ` +
              `postgres ${cpu.postgres!.toFixed(2)}, redis ${cpu['redis-server']!.toFixed(2)}, load generator ${load.loadGeneratorCpu.toFixed(2)}; busy cpu${SUPPORT_CPU} ${cpu[`cpu${SUPPORT_CPU}`]!.toFixed(2)}, cpu${GATEWAY_CPU} ${cpu[`cpu${GATEWAY_CPU}`]!.toFixed(2)}` +
              (splits?.length ? `; mean fetch ms = in subgraph + outside: ${splits.map((x) => `${x.subgraph} ${ms(x.fetchMs)} = ${ms(x.serverMs)} + ${ms(x.fetchMs - x.serverMs)}`).join(', ')}` : ''),
          );
        }
      }
    }
  } finally {
    await generator?.stop();
    await gateway?.stop();
    await compared?.child.stop();
    profiles.push({ id: 'gateway', endedAtMs: Date.now() });
    await stopSubgraphs();
    const deleted = await deleteRedisKeys(options.redisUrl, prefix).catch(() => -1);
    await db.drop();
    log(`dropped database ${db.name}; deleted ${deleted} Redis keys under ${prefix}`);
  }

  const info = {
    date: new Date(started).toISOString(),
    command: options.command,
    machine: machineInfo(),
    versions: packageVersions(),
    git: gitRevision(),
    settings: { ...options, redisUrl: new URL(options.redisUrl).host, jsonFile: undefined, markdownFile: undefined },
    pinning:
      options.pin && HAS_TASKSET
        ? `Gateway alone on CPU ${GATEWAY_CPU} (taskset); subgraphs, PostgreSQL, Redis and load generator share CPU ${SUPPORT_CPU} (--pin).`
        : 'Nothing pinned: the OS schedules the gateway, the four subgraph processes, PostgreSQL, Redis and the load generator over both CPUs.',
    loadAverage: { before: loadBefore, after: loadAverage() },
    durationSeconds: Math.round((Date.now() - started) / 1000),
  };
  const id = options.manyConnections ? 'D' : 'B';
  const title = options.manyConnections ? SCENARIO_D_TITLE : scenarioB.title;
  const text = options.manyConnections ? renderD(dResults, info, options) : renderB(measurements, info, options);
  process.stdout.write(`\n## ${title}\n\n${text}\n`);
  for (const { id, endedAtMs } of profiles) {
    const file = isProfiled(id) ? findProfile(profileDir(id)) : null;
    if (file) process.stdout.write(`\n${renderProfile(id, summariseProfile(file, { windows, endedAtMs }, 25))}\n(profile: ${file})\n`);
  }
  if (options.jsonFile) {
    const file = options.jsonFile;
    const existing = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { generatedBy?: string; scenarios?: Record<string, unknown> }) : {};
    const scenarios = { ...(existing.scenarios ?? {}), [id]: { title, run: info, ...(options.manyConnections ? { results: dResults } : { measurements }) } };
    writeFileSync(file, `${JSON.stringify({ generatedBy: existing.generatedBy ?? 'npm run bench (test/bench/run.ts)', scenarios }, null, 2)}\n`);
  }
  // BENCHMARKS.md keeps a page of tables: B's latency split is printed above and kept in the JSON.
  const markdown = options.manyConnections ? text : renderB(measurements, info, options, { split: false });
  if (options.markdownFile) updateMarkdown(options.markdownFile, { scenario: { id, title, baseline: 'ours' }, targets: [], subgraphChecks: [] }, markdown);
  return exitCode;
}

export const SCENARIO_D_TITLE = 'Scenario D: 1000 open connections on our supergraph (B\'s mix, PostgreSQL and Redis)';

/**
 * A revision's gateway/admission.ts as JavaScript, for a gateway of this tree (--compare-admission):
 * what this tree's gateway uses and the revision lacks is added, inert (SHED_REASONS, refuse()).
 */
async function admissionOf(rev: string): Promise<string> {
  // (Loaded here only: the load generator imports this module too.)
  const { default: ts } = await import('typescript');
  const source = execFileSync('git', ['show', `${rev}:gateway/admission.ts`], { encoding: 'utf8' });
  let { outputText: code } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
  if (!/export const SHED_REASONS\b/.test(source)) code += "\nexport const SHED_REASONS = ['queue_full', 'predicted_wait', 'queue_timeout'];\n";
  if (!/\brefuse\(\)/.test(source)) {
    // (The early refusal in onRequest asks it; an admission control without one never refuses there.)
    code = code.replace('export function createAdmission(', 'function createAdmissionOf(');
    code += '\nexport function createAdmission(options) {\n  const admission = createAdmissionOf(options);\n  admission.refuse = () => null;\n  return admission;\n}\n';
  }
  return code;
}

interface DResult {
  cache: 'warm' | 'cold';
  /** With --compare-admission: which gateway. */
  gateway?: string;
  result: ManyConnectionsResult;
  gatewayCpu: number;
  subgraphCpu: number;
  /** Optional: runs recorded before PostgreSQL and Redis were metered in D. */
  postgresCpu?: number;
  redisCpu?: number;
  gatewayPeakRssMiB: number;
}

type RunInfoB = { date: string; command: string; machine: ReturnType<typeof machineInfo>; versions: Record<string, string>; git: string; pinning: string; loadAverage: { before: number[] } };

function renderD(results: DResult[], info: RunInfoB, options: ScenarioBOptions): string {
  const d = options.manyConnections!;
  const lines = [
    `${info.date.slice(0, 16).replace('T', ' ')} UTC, ${info.machine.cpus} vCPU ${info.machine.model}, ${info.machine.memoryGiB} GiB, Node ${info.machine.node.slice(1)}, git ${info.git}.`,
    `After the processes start, each request type ${options.jitWarmupSeconds} s in a closed loop of ${JIT_WARMUP_CONNECTIONS} connections and ${options.warmupSeconds} s at ${warmupRate(options)}/s (JIT warm-up, not counted). ${d.connections} keep-alive connections opened first (one request each, not counted), then ${d.rate} requests/s in total, evenly spaced, each on the least recently used connection (lib/many-connections-worker.ts, node:http Agent, FIFO), ${options.warmupSeconds} s warm-up then ${options.seconds} s measured; client timeout ${((d.timeoutMs ?? 30_000) / 1000).toFixed(0)} s. ` +
      (d.compareAdmission ? `Two gateways, loaded in turn (${options.rounds} round${options.rounds > 1 ? 's' : ''}, alternating order): this tree, and this tree with gateway/admission.ts of ${d.compareAdmission}. ` : '') +
      `Mix, in turn: ${d.types.join(', ')} (B's request types; login left out: argon2 bounds it to a few per second). Latency from each request's scheduled instant. ${info.pinning} Same setup as scenario B. Load average before: ${info.loadAverage.before.join(' / ')}.`,
    '',
    '```sh',
    info.command,
    '```',
    '',
    `| cache |${results.some((r) => r.gateway) ? ' gateway |' : ''} connections (open during the window, min-max) | offered req/s | achieved RPS | p50 ms | p95 ms | p99 ms | max ms | p99 per type ms | errors | served 200: count, p50 / p99 ms | refused 503 OVERLOADED: count, p50 / p99 ms | timeouts | gateway CPU cores | subgraphs CPU cores | PostgreSQL CPU cores | Redis CPU cores | gateway peak RSS MiB | opening all connections s |`,
    `|---|${results.some((r) => r.gateway) ? '---|' : ''}---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|`,
  ];
  const split = (l: ManyConnectionsResult['served'] | undefined) => (l ? `${l.count.toLocaleString('en-US')}: ${ms(l.p50)} / ${ms(l.p99)}` : '-');
  for (const r of results) {
    const x = r.result;
    lines.push(
      `| ${r.cache} |${results.some((y) => y.gateway) ? ` ${r.gateway ?? ''} |` : ''} ${x.connections} (${x.openSockets.min}-${x.openSockets.max}) | ${x.rate} | ${ms(x.rps)} | ${ms(x.latencyMs.p50)} | ${ms(x.latencyMs.p95)} | ${ms(x.latencyMs.p99)} | ${ms(x.latencyMs.max)} | ${Object.entries(x.perType).map(([t, v]) => `${t} ${ms(v.p99)}`).join(', ')} | ${x.errors.total}${x.warmupErrors ? ` (+${x.warmupErrors} before the window)` : ''} | ${split(x.served)} | ${split(x.overloaded)} | ${x.errors.timeouts} | ${r.gatewayCpu.toFixed(2)} | ${r.subgraphCpu.toFixed(2)} | ${r.postgresCpu?.toFixed(2) ?? '-'} | ${r.redisCpu?.toFixed(2) ?? '-'} | ${Math.round(r.gatewayPeakRssMiB)} | ${x.openingSeconds.toFixed(1)} |`,
    );
  }
  lines.push('', `Every response checked (status 200, no \`errors\`, expected shape of its type): ${results.reduce((n, r) => n + r.result.responses, 0).toLocaleString('en-US')}, errors ${results.reduce((n, r) => n + r.result.errors.total, 0)}.`);
  return lines.join('\n');
}

const ms = (x: number) => (!Number.isFinite(x) ? '-' : x < 100 ? x.toFixed(1) : Math.round(x).toLocaleString('en-US'));

function renderB(measurements: BMeasurement[], info: RunInfoB, options: ScenarioBOptions, { split: withSplit = true } = {}): string {
  const lines = [
    `${info.date.slice(0, 16).replace('T', ' ')} UTC, ${info.machine.cpus} vCPU ${info.machine.model}, ${info.machine.memoryGiB} GiB, Node ${info.machine.node.slice(1)}, git ${info.git}.`,
    `autocannon ${info.versions.autocannon}; after the processes start, each request type ${options.jitWarmupSeconds} s in a closed loop of ${JIT_WARMUP_CONNECTIONS} connections and ${options.warmupSeconds} s at ${warmupRate(options)}/s (JIT warm-up, not counted); one run per request type and cache state: open model ${options.rate} requests/s offered (login: ${options.loginRate}/s) for ${options.seconds} s after a ${options.warmupSeconds} s warm-up (not counted)` +
      (options.models.includes('closed') ? `; closed model ${options.connections} connections (login: ${Math.min(LOGIN_CONNECTIONS, options.connections)}; its open run goes first), ${options.warmupSeconds} s warm-up then ${options.seconds} s` : '') +
      `. ${info.pinning} Real PostgreSQL (fresh database, demo data) and Redis. Load average before: ${info.loadAverage.before.join(' / ')}.`,
    'Cache warm: subgraph response cache on (CACHE_TTL_SECONDS=60), the same request repeated. Cache cold: subgraphs restarted with CACHE_TTL_SECONDS=0 (every request reaches PostgreSQL; the gateway has no cache of its own). Token of owner@acme.example on every request but login.',
    '',
    '```sh',
    info.command,
    '```',
    '',
  ];
  const label = (id: string) => REQUEST_TYPES.find((t) => t.id === id)!.label;
  const median = (xs: number[]) => {
    const sorted = xs.filter(Number.isFinite).sort((a, b) => a - b);
    if (!sorted.length) return NaN;
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  };
  for (const model of ['open', 'closed'] as const) {
    const rows = measurements.filter((m) => m.model === model);
    if (!rows.length) continue;
    lines.push(
      model === 'open'
        ? `Open model (fixed offered rate, latency; median of ${options.rounds} round${options.rounds > 1 ? 's' : ''}, request types interleaved):`
        : 'Closed model (max throughput; first round):',
      '',
      '| request | cache | offered req/s | achieved RPS | p50 ms | p95 ms | p99 ms | max ms | p99 per round ms | errors | gateway CPU cores | gateway CPU ms/req | subgraphs CPU cores | PostgreSQL CPU cores | gateway peak RSS MiB |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    );
    const groups = new Map<string, BMeasurement[]>();
    for (const m of rows) groups.set(`${m.cache} ${m.type}`, [...(groups.get(`${m.cache} ${m.type}`) ?? []), m]);
    for (const group of groups.values()) {
      const first = group[0]!;
      const med = (pick: (m: BMeasurement) => number) => median(group.map(pick));
      const rps = med((m) => m.load.rps);
      const gatewayCpu = med((m) => m.gatewayCpu);
      lines.push(
        `| ${label(first.type)} | ${first.cache} | ${first.load.offeredRate ?? `${first.load.connections} conn.`} | ${ms(rps)} | ${ms(med((m) => m.load.latencyMs.p50))} | ${ms(med((m) => m.load.latencyMs.p95))} | ${ms(med((m) => m.load.latencyMs.p99))} | ${ms(med((m) => m.load.latencyMs.max))} | ${group.map((m) => ms(m.load.latencyMs.p99)).join(', ')} | ${group.reduce((n, m) => n + m.load.errors.total, 0)} | ${gatewayCpu.toFixed(2)} | ${ms(rps ? (gatewayCpu * 1000) / rps : NaN)} | ${med((m) => m.subgraphCpu).toFixed(2)} | ${med((m) => m.postgresCpu).toFixed(2)} | ${Math.round(Math.max(...group.map((m) => m.gatewayPeakRssMiB)))} |`,
      );
    }
    lines.push('');
  }
  // Per subgraph, the open-model round whose p99 is the table's median (the lower middle one of an even count).
  const splitRows: string[] = [];
  const openGroups = new Map<string, BMeasurement[]>();
  for (const m of measurements.filter((x) => x.model === 'open' && x.split?.length)) openGroups.set(`${m.cache} ${m.type}`, [...(openGroups.get(`${m.cache} ${m.type}`) ?? []), m]);
  for (const group of openGroups.values()) {
    const sorted = [...group].sort((a, b) => a.load.latencyMs.p99 - b.load.latencyMs.p99);
    const m = sorted[(sorted.length - 1) >> 1]!;
    for (const x of m.split!) {
      splitRows.push(
        `| ${label(m.type)} | ${m.cache} | ${m.round} | ${x.subgraph} | ${(x.fetches / Math.max(1, m.load.responses)).toFixed(2)} | ${ms(x.fetchMs)} | ${ms(x.serverMs)} | ${ms(x.fetchMs - x.serverMs)} | ${ms(x.poolWaitMs)} | ${ms(x.transactionMs)} | ${ms(x.loopLagP99Ms)} |`,
      );
    }
  }
  if (withSplit && splitRows.length) {
    lines.push(
      'Where the subgraph fetches\' time went (open model, the round with the median p99; means from the gateway\'s and the subgraphs\' own `/metrics` over the measured window): "outside" is fetch minus in-subgraph time, i.e. loopback network, both processes waiting for a CPU and both event loops busy with other requests.',
      '',
      '| request | cache | round | subgraph | fetches/request | fetch ms (gateway) | in subgraph ms | outside ms | pool wait ms | transaction ms | subgraph loop lag p99 ms |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
      ...splitRows,
      '',
    );
  }
  const checked = measurements.reduce((n, m) => n + m.load.checks.exact + m.load.checks.mismatch, 0);
  const bad = measurements.reduce((n, m) => n + m.load.errors.total, 0);
  lines.push(`Responses checked (status 200, no \`errors\`, expected shape): ${checked.toLocaleString('en-US')}; errors (non-2xx, timeouts, wrong bodies): ${bad}.`);
  return lines.join('\n');
}
