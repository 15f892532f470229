/**
 * `npm run bench:subgraph`: one subgraph alone under load, CPU per request of the subgraph and
 * of PostgreSQL, variants of its environment interleaved in one run. Never part of `npm test`.
 * Scenario B measures the whole supergraph; this isolates one subgraph's request path (kit,
 * shield, SQL), which is where scenario B's cold requests spend most of their CPU.
 *
 *   npm run bench:subgraph                                     # crm, leads page, 3 rounds of 8 s
 *   npm run bench:subgraph -- --request leads-count --rounds 5
 *   npm run bench:subgraph -- --request rest-leads             # what the REST shim asks for a leads page
 *   npm run bench:subgraph -- --variants 'on=;off=SOME_SWITCH:1'   # A/B a temporary env switch
 *   npm run bench:subgraph -- --variants 'now=;then=NODE_FLAGS:--allocation-site-pretenuring'   # A/B node flags
 *   npm run bench:subgraph -- --request owners --profile           # each variant under --cpu-prof, its profile printed
 *   npm run bench:subgraph -- --request owners --rate 60             # open model: CPU a request at B's pace
 *
 * - A fresh database (as scenario B makes it: migrations, demo data, ANALYZE), real Redis, the
 *   auth subgraph for the login and the JWKS, then one process of the subgraph under test per
 *   variant (`name=ENV:value,ENV2:value`; `NODE_FLAGS:--a --b` gives node flags instead), pinned
 *   to CPU 0 where taskset exists.
 * - The request is what the gateway sends the subgraph for one of scenario B's queries, with
 *   owner@acme.example's token; its first answer is printed so a wrong body is seen.
 * - Rounds: every variant in turn (order reversed every other round), autocannon closed model
 *   (--connections), or open at --rate requests/s, --seconds each; per round the subgraph's CPU
 *   (/proc/<pid>/stat) and all PostgreSQL processes' CPU, divided by the requests served. Medians over rounds at the end.
 *   The machine is shared and noisy: compare variants within one run, not across runs.
 * - BENCH_CHILD_LOG=<prefix>: each process's whole output also to `<prefix>.<pid>` (V8's traces
 *   with `NODE_FLAGS:--trace-gc` or `--trace-opt`).
 * - --profile: each variant runs under `node --cpu-prof`; where its busy time went in the measured
 *   windows is printed at the end (lib/profile.ts, as `npm run bench -- --profile`).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePorts } from '../support/ports.ts';
import { createPostgresDatabase } from '../support/services.ts';
import { createTestKeys } from '../support/deps.ts';
import { LoadGenerator } from './lib/load-client.ts';
import { spawnNode, stopAll, waitUntil, type Child } from './lib/processes.ts';
import { cpuSeconds, cpuSecondsByName, peakRssMiB } from './lib/proc-stats.ts';
import { findProfile, renderProfile, summariseProfile, type ProfileWindows } from './lib/profile.ts';
import { median } from './lib/report.ts';
import { DEMO_EMAIL, DEMO_PASSWORD } from './scenarios/b-supergraph.ts';

/**
 * Requests as the gateway sends them to one subgraph (scenario B's queries, planned; `owners`:
 * auth's entity fetch for the account fields crm does not provide, B's second fetch before crm
 * provided the emails).
 */
const REQUESTS: Record<string, { subgraph: string; query: string }> = {
  leads: { subgraph: 'crm', query: 'query Leads__crm__0 { leads(first: 50) { edges { node { name owner { email } } } } }' },
  'leads-count': {
    subgraph: 'crm',
    query: 'query { leads(first: 50) { totalCount edges { node { id name email company status score tags createdAt owner { __typename id } } } } }',
  },
  // A list that fits one page, with its count (the 18 of the demo tenant's 300 leads scoring 95 or more).
  'leads-few': {
    subgraph: 'crm',
    query: 'query { leads(first: 50, filter: { scoreMin: 95 }) { totalCount edges { node { id name email status score owner { __typename id } } } } }',
  },
  // What the REST shim asks for its default page (page_size 20).
  'rest-leads': {
    subgraph: 'crm',
    query:
      'query { leads(first: 20) { totalCount edges { node { id name email phone company title source status score tags owner { __typename id } notes createdAt updatedAt lastActivityAt convertedAt convertedContact { id } convertedDeal { id } } } } }',
  },
  owners: {
    subgraph: 'auth',
    query: 'query Leads__auth__1 { _entities(representations: [{ __typename: "Account", id: "00000000-0000-4000-9000-000000000001" }, { __typename: "Account", id: "00000000-0000-4000-9000-000000000002" }]) { ... on Account { name } } }',
  },
};

const { values: flags } = parseArgs({
  options: {
    request: { type: 'string', default: 'leads' },
    variants: { type: 'string', default: 'current=' },
    seconds: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '10' },
    rate: { type: 'string' },
    profile: { type: 'boolean', default: false },
  },
});
const request = REQUESTS[flags.request!] ?? raise(`--request must be one of ${Object.keys(REQUESTS).join(', ')}`);
const variants = flags.variants!.split(';').map((spec) => {
  const at = spec.indexOf('=');
  if (at <= 0) raise(`a variant is name=ENV:value,...; got "${spec}"`);
  const pairs = spec
    .slice(at + 1)
    .split(',')
    .filter(Boolean)
    .map((kv) => (kv.indexOf(':') > 0 ? ([kv.slice(0, kv.indexOf(':')), kv.slice(kv.indexOf(':') + 1)] as const) : raise(`"${kv}" in variant "${spec}" is not ENV:value`)));
  // NODE_FLAGS: node flags before the script, space-separated (V8 flags NODE_OPTIONS refuses); not an environment variable.
  const { NODE_FLAGS: nodeFlags, ...env } = Object.fromEntries(pairs);
  return { name: spec.slice(0, at), env, nodeFlags: nodeFlags ? nodeFlags.split(/\s+/).filter(Boolean) : [] };
});

function raise(message: string): never {
  throw new Error(message);
}

const SCRIPT = 'test/bench/targets/supergraph-subgraphs.ts';
const UNTHROTTLED = '1000000000';
const keys = await createTestKeys();
const db = await createPostgresDatabase(process.env.BENCH_DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres', 'bizosaas_bench');
const workDir = mkdtempSync(join(tmpdir(), 'bizosaas-bench-subgraph-'));
const [authPort, ...ports] = await freePorts(1 + variants.length);
const env = {
  NODE_ENV: 'production',
  LOG_LEVEL: 'warn',
  REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
  REDIS_PREFIX: `bench-subgraph-${process.pid}:`,
  DATABASE_URL: db.appUrl,
  DATABASE_OWNER_URL: db.ownerUrl,
  AUTH_PRIVATE_JWK: JSON.stringify(keys.privateJwk),
  AUTH_JWKS_URL: `http://127.0.0.1:${authPort}/.well-known/jwks.json`,
  // Required in production (auth's and agents' shared secret); the run's own.
  AUTH_DELEGATION_SECRET: randomBytes(32).toString('base64url'),
  DEMO_DATA: 'true',
  CACHE_TTL_SECONDS: '0',
  LOGIN_MAX_ATTEMPTS_PER_IP: UNTHROTTLED,
  LOGIN_MAX_FAILURES_PER_ACCOUNT: UNTHROTTLED,
};
const children: Child[] = [];
try {
  const prepare = spawnNode({ name: 'prepare', script: SCRIPT, args: ['--prepare'], env, cpu: null });
  const code = await new Promise<number | null>((resolve) => prepare.process.once('exit', resolve));
  if (code !== 0) raise(`migrating and seeding failed (${code}):\n${prepare.tail()}`);
  const profileDir = (name: string) => join(workDir, 'profiles', name);
  const start = async (name: string, subgraph: string, port: number, extra: Record<string, string>, nodeFlags: string[] = []) => {
    const readyFile = join(workDir, `ready-${name}.json`);
    const args = ['--ports', JSON.stringify({ [subgraph]: port }), '--only', subgraph, '--ready-file', readyFile];
    const child = spawnNode({ name, script: SCRIPT, args, env: { ...env, ...extra }, cpu: 0, nodeFlags });
    children.push(child);
    await waitUntil(child, async () => existsSync(readyFile), 180_000);
    return child;
  };
  await start('auth', 'auth', authPort!, {});
  const login = await fetch(`http://127.0.0.1:${authPort}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: `mutation { login(email: "${DEMO_EMAIL}", password: "${DEMO_PASSWORD}") { accessToken } }` }),
  });
  const token = ((await login.json()) as { data?: { login?: { accessToken?: string } } }).data?.login?.accessToken ?? raise('login failed');
  const targets: { name: string; child: Child; url: string }[] = [];
  for (const [i, variant] of variants.entries()) {
    const profileFlags = flags.profile ? ['--cpu-prof', '--cpu-prof-dir', profileDir(variant.name)] : [];
    const child = await start(variant.name, request.subgraph, ports[i]!, variant.env, [...variant.nodeFlags, ...profileFlags]);
    targets.push({ name: variant.name, child, url: `http://127.0.0.1:${ports[i]}/graphql` });
  }
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
  const body = JSON.stringify({ query: request.query });
  for (const target of targets) {
    const answer = await (await fetch(target.url, { method: 'POST', headers, body })).text();
    process.stdout.write(`${target.name} answers: ${answer.slice(0, 160)}${answer.length > 160 ? '...' : ''}\n`);
  }
  const generator = await LoadGenerator.start(null);
  const results = new Map<string, { rps: number; cpuMs: number; postgresMs: number; p99: number }[]>();
  // --profile: each variant's measured windows (wall clock), to keep only its samples under load.
  const windows = new Map<string, ProfileWindows['windows']>();
  for (let round = 1; round <= Number(flags.rounds); round++) {
    for (const target of round % 2 ? targets : [...targets].reverse()) {
      // CPU is read when the measured window opens and closes (the warm-up is not counted).
      let cpu = 0;
      let postgres = 0;
      const result = await generator.run(
        {
          url: target.url.replace('/graphql', ''),
          requests: [{ method: 'POST', path: '/graphql', headers, body }],
          ...(flags.rate ? { model: 'open' as const, rate: Number(flags.rate) } : { model: 'closed' as const }),
          connections: Number(flags.connections),
          warmupSeconds: round === 1 ? 5 : 2,
          seconds: Number(flags.seconds),
        },
        (mark) => {
          const [c, p] = [cpuSeconds(target.child.pid), cpuSecondsByName('postgres')];
          if (mark === 'start') [cpu, postgres] = [c, p];
          else [cpu, postgres] = [c - cpu, p - postgres];
          const own = windows.get(target.name) ?? windows.set(target.name, []).get(target.name)!;
          if (mark === 'start') own.push({ from: Date.now(), to: Infinity });
          else own.at(-1)!.to = Date.now();
        },
      );
      if (result.errors.total) raise(`${target.name}: ${JSON.stringify(result.errors)}`);
      const m = { rps: result.rps, cpuMs: (cpu * 1000) / result.responses, postgresMs: (postgres * 1000) / result.responses, p99: result.latencyMs.p99 };
      process.stdout.write(
        `round ${round} ${target.name}: ${m.rps.toFixed(0)} RPS, subgraph CPU ${m.cpuMs.toFixed(2)} ms/req, PostgreSQL ${m.postgresMs.toFixed(2)} ms/req, p99 ${m.p99.toFixed(1)} ms\n`,
      );
      results.set(target.name, [...(results.get(target.name) ?? []), m]);
    }
  }
  await generator.stop();
  process.stdout.write(`\n${request.subgraph} subgraph, request "${flags.request}", ${flags.rate ? `open model at ${flags.rate}/s` : `${flags.connections} connections`}, median of ${flags.rounds} rounds:\n\n`);
  process.stdout.write('| variant | RPS | subgraph CPU ms/req | PostgreSQL CPU ms/req | p99 ms | peak RSS MiB |\n|---|---|---|---|---|---|\n');
  for (const target of targets) {
    const ms = results.get(target.name)!;
    const med = (pick: (m: (typeof ms)[number]) => number) => median(ms.map(pick));
    process.stdout.write(
      `| ${target.name} | ${med((m) => m.rps).toFixed(0)} | ${med((m) => m.cpuMs).toFixed(2)} | ${med((m) => m.postgresMs).toFixed(2)} | ${med((m) => m.p99).toFixed(1)} | ${peakRssMiB(target.child.pid).toFixed(0)} |\n`,
    );
  }
  if (flags.profile) {
    // A profile is written when its process exits.
    for (const target of targets) {
      await target.child.stop();
      const file = findProfile(profileDir(target.name));
      if (!file) raise(`${target.name}: no profile in ${profileDir(target.name)}`);
      const summary = summariseProfile(file, { windows: windows.get(target.name) ?? [], endedAtMs: Date.now() }, 30);
      process.stdout.write(`\n${renderProfile(target.name, summary)}\n(profile: ${file})\n`);
    }
  }
} finally {
  await stopAll();
  await db.drop();
}
process.exit(0);
