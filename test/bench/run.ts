/**
 * `npm run bench`: gateway benchmarks. Never part of `npm test`.
 *
 *   npm run bench                               # scenarios A and C, 3 rounds of 20 s (about 20 min)
 *   npm run bench -- --quick                    # smoke run: 1 round of 3 s, results to tmp/bench/
 *   npm run bench -- --scenario A --rounds 3 --seconds 20 --warmup 5 --connections 50 --rate 30
 *   npm run bench -- --targets ours,apollo --models closed --no-write
 *   npm run bench -- --scenario E --rows 100000 # chart data over fact rows (scenarios/e-bi.ts; default 1,000,000)
 *   npm run bench -- --scenario E --profile gateway,bi  # E's processes under --cpu-prof, profiles of its rounds printed
 *
 * Flags: see parseArgs below. Environment: BENCH_REDIS_URL (default redis://127.0.0.1:6379),
 * BENCH_DATABASE_ADMIN_URL (scenarios B, D and E: a PostgreSQL superuser URL to create the run's
 * database), BENCH_SUBGRAPH_MEMO=off (scenario A's subgraphs execute every request instead of
 * answering repeats from memory), BENCH_VARIANT_NODE_FLAGS and BENCH_VARIANT_ENV ("NAME=value
 * ..."): target `ours-variant`, a second copy of ours with other node flags or settings, for an
 * A/B within one run; BENCH_CHILD_LOG=<prefix>: each process's whole output to `<prefix>.<pid>`.
 *
 * How a run goes (BENCHMARKS.md, "Method", says why: only ratios within one run compare):
 * 1. The scenario's fixture starts (scenario A: the four benchmark subgraphs, one process) and
 *    every target starts in its own process; targets are pinned to CPU 1 with `taskset`, the
 *    subgraphs and the load generator (autocannon, in its own process: lib/load-worker.ts) to
 *    CPU 0. A target is ready once it answers the scenario's request correctly.
 * 2. The subgraphs are loaded alone with the requests each query planner sends for one query,
 *    to show whether they could be the bottleneck.
 * 3. Rounds: in each, every target gets a closed-model run (warm-up, then measured), then every
 *    target an open-model run at one offered rate (`--rate`, or half the slowest gateway's
 *    round-1 throughput). Targets are interleaved and their order rotates each round, so noise
 *    from the shared machine spreads over all of them; the report gives medians over rounds.
 *    Around each run: the target's and the subgraphs' CPU time (/proc/<pid>/stat), the
 *    target's peak RSS (VmHWM), the subgraph requests served, the load average.
 * 4. Every response body is checked by the scenario's checker (scenario A: equal to a direct,
 *    non-federated computation of the query); non-2xx, timeouts and wrong bodies are errors.
 * 5. Prints the tables; writes BENCHMARKS.json (per scenario) and the scenario's block in
 *    BENCHMARKS.md (`--quick` writes to tmp/bench/ instead; `--no-write` writes nothing).
 */
import { mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePorts } from '../support/ports.ts';
import { startFederationFixture, type FederationFixture } from './fixtures/federation/fixture.ts';
import { LoadGenerator } from './lib/load-client.ts';
import type { LoadJob } from './lib/load-worker.ts';
import { gitRevision, loadAverage, machineInfo, packageVersions } from './lib/machine.ts';
import { cpuMeter, peakRssMiB } from './lib/proc-stats.ts';
import { findProfile, renderProfile, summariseProfile } from './lib/profile.ts';
import { deleteRedisKeys } from './lib/redis-keys.ts';
import { GATEWAY_CPU, HAS_TASKSET, ROOT, spawnNode, stopAll, SUPPORT_CPU, waitUntil, type Child } from './lib/processes.ts';
import {
  median,
  renderScenario,
  summarise,
  updateMarkdown,
  writeJson,
  type Measurement,
  type RunInfo,
  type ScenarioResult,
  type SubgraphCheck,
  type TargetRun,
} from './lib/report.ts';
import { runScenarioB } from './scenarios/b-supergraph.ts';
import { D_REQUEST_TYPES } from './scenarios/d-thousand-users.ts';
import { chartIndexes, runScenarioE } from './scenarios/e-bi.ts';
import { PLANNED_SCENARIOS, SCENARIOS } from './scenarios/index.ts';
import type { HttpRequestSpec, Scenario, Target } from './scenarios/types.ts';

const { values: flags } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'A,C' },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    // Scenarios B and D: seconds of a closed loop per request type after the processes start (default 10).
    'jit-warmup': { type: 'string' },
    rounds: { type: 'string' },
    connections: { type: 'string', default: '50' },
    rate: { type: 'string' },
    models: { type: 'string', default: 'closed,open' },
    targets: { type: 'string' },
    'check-seconds': { type: 'string' },
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
    profile: { type: 'string' },
    // Scenario B only (scenarios/b-supergraph.ts): login's offered rate, cache states, request types.
    'login-rate': { type: 'string', default: '4' },
    cache: { type: 'string', default: 'warm,cold' },
    types: { type: 'string' },
    // Scenarios B and D: scenario A's CPU layout (gateway alone on one CPU) instead of none.
    pin: { type: 'boolean', default: false },
    // Scenario D only: open connections (its total rate is --rate, default 500), the load
    // generator's client timeout (ms), and a git revision whose gateway/admission.ts a second
    // gateway runs, loaded in turn with this tree's (an overload before/after within one run).
    'open-connections': { type: 'string', default: '1000' },
    'client-timeout': { type: 'string', default: '30000' },
    'compare-admission': { type: 'string' },
    // Scenario E only (scenarios/e-bi.ts): fact rows in the big tenant, cold and warm requests per
    // chart and round, indexes dropped for the "without" side (comma-separated, or none).
    rows: { type: 'string', default: '1000000' },
    'cold-samples': { type: 'string', default: '20' },
    'warm-samples': { type: 'string', default: '50' },
    ablate: { type: 'string' },
  },
});

const quick = flags.quick;
const settings = {
  seconds: Number(flags.seconds ?? (quick ? 3 : 20)),
  warmupSeconds: Number(flags.warmup ?? (quick ? 1 : 5)),
  rounds: Number(flags.rounds ?? (quick ? 1 : 3)),
  connections: Number(flags.connections),
  checkSeconds: Number(flags['check-seconds'] ?? (quick ? 2 : 10)),
  models: flags.models.split(',').map((m) => m.trim()) as ('closed' | 'open')[],
};
for (const [name, value] of Object.entries(settings)) {
  if (typeof value === 'number' && !(value > 0)) throw new Error(`--${name} must be a positive number`);
}
if (!settings.models.every((m) => m === 'closed' || m === 'open')) throw new Error('--models: closed and/or open');
const rateFlag = flags.rate ? Number(flags.rate) : null;
const jsonFile = flags.out ?? join(ROOT, quick ? 'tmp/bench/quick.json' : 'BENCHMARKS.json');
const markdownFile = jsonFile.endsWith('BENCHMARKS.json') ? join(ROOT, 'BENCHMARKS.md') : jsonFile.replace(/\.json$/, '.md');

function selectedScenarios(): Scenario[] {
  return flags.scenario.split(',').map((raw) => {
    const id = raw.trim().toUpperCase();
    if (id === 'B' || id === 'D' || id === 'E') throw new Error(`scenario ${id} runs on its own: npm run bench -- --scenario ${id}`);
    const found = SCENARIOS.find((s) => s.id === id);
    if (found) return found;
    throw new Error(PLANNED_SCENARIOS[id] ? `scenario ${id}: ${PLANNED_SCENARIOS[id]}` : `unknown scenario ${raw} (known: ${SCENARIOS.map((s) => s.id).join(', ')})`);
  });
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const fmt = (x: number) => (x < 100 ? x.toFixed(1) : Math.round(x).toString());

function redisUrl(): Promise<string | undefined> {
  const url = new URL(process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379');
  return new Promise((resolve) => {
    const socket = connect(Number(url.port || 6379), url.hostname);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok ? url.toString() : undefined);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}
/** host:port only: a BENCH_REDIS_URL may carry a password, and the report is committed. */
const redisHost = (url: string) => new URL(url).host;


async function send(port: number, request: HttpRequestSpec): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${request.path}`, { method: request.method, headers: request.headers, body: request.body });
  return { status: response.status, body: await response.text() };
}

interface Running {
  target: Target;
  scenario: Scenario;
  port: number;
  child: Child | null;
  run: TargetRun;
}

async function main() {
  const scenarios = selectedScenarios();
  const started = Date.now();
  const runDir = join(ROOT, 'tmp/bench', `run-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(runDir, { recursive: true });
  const loadBefore = loadAverage();
  const loadDuring: number[] = [];

  // One process per target id, even when several scenarios list it (scenario C reuses A's "ours").
  const wanted = flags.targets ? new Set(flags.targets.split(',').map((t) => t.trim())) : null;
  const unique = new Map<string, { target: Target; scenario: Scenario }>();
  for (const scenario of scenarios) {
    for (const target of scenario.targets) {
      if (wanted && !wanted.has(target.id)) continue;
      if (!unique.has(target.id)) unique.set(target.id, { target, scenario });
    }
  }
  if (!unique.size) throw new Error('no targets selected');

  const info: RunInfo = {
    date: new Date().toISOString(),
    command: process.env.npm_lifecycle_event === 'bench' ? `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim().replace(/ --$/, '') : `npx tsx test/bench/run.ts ${process.argv.slice(2).join(' ')}`.trim(),
    machine: machineInfo(),
    versions: packageVersions(),
    git: gitRevision(),
    settings: {
      seconds: settings.seconds,
      warmupSeconds: settings.warmupSeconds,
      rounds: settings.rounds,
      connections: settings.connections,
      openRate: rateFlag,
      models: settings.models,
      quick,
      pinning: HAS_TASKSET
        ? `Each target alone on CPU ${GATEWAY_CPU} (taskset); subgraphs and load generator on CPU ${SUPPORT_CPU}.`
        : 'No taskset: nothing pinned (numbers are less comparable).',
    },
    redis: '',
    loadAverage: { before: loadBefore, during: null, after: null },
    durationSeconds: 0,
  };
  const perRound = unique.size * ((settings.models.includes('closed') ? settings.warmupSeconds + settings.seconds : 0) + (settings.models.includes('open') ? 1 + settings.seconds : 0));
  log(`${info.machine.cpus} x ${info.machine.model}, Node ${info.machine.node}, load average ${loadBefore.join(' ')}`);
  log(`${info.command}`);
  log(`targets: ${[...unique.keys()].join(', ')}; about ${Math.round((perRound * settings.rounds) / 60 + 1)} min of load`);

  // Fixture and targets.
  const redis = await redisUrl();
  const redisPrefix = `bench-${process.pid}-${Date.now().toString(36)}:`;
  info.redis = redis ? `real Redis at ${redisHost(redis)}, key prefix ${redisPrefix}` : 'no Redis reachable: in-memory (embedded mode)';
  log(`redis: ${info.redis}`);
  const ports = await freePorts(unique.size + 1);
  let fixture: FederationFixture | null = null;
  if ([...unique.values()].some((u) => u.scenario.fixture === 'federation')) {
    fixture = await startFederationFixture(runDir, ports[0]!);
    log(`subgraphs at ${fixture.baseUrl} (pid ${fixture.child.pid})`);
  }

  // --profile: those targets run under `node --cpu-prof` (a few % slower; their label says so).
  const profiled = new Set(flags.profile ? flags.profile.split(',').map((t) => t.trim()) : []);
  const profileDir = (id: string) => join(runDir, 'profiles', id);
  const running: Running[] = [...unique.values()].map(({ target, scenario }, i) => ({
    target,
    scenario,
    port: ports[i + 1]!,
    child: null,
    run: {
      target: { id: target.id, label: profiled.has(target.id) ? `${target.label} [profiled]` : target.label, kind: target.kind, dedup: target.dedup },
      pid: null,
      startError: null,
      measurements: [],
      profile: null,
    },
  }));
  await Promise.all(
    running.map(async (r) => {
      const launch = r.target.launch({ port: r.port, fixture: fixture?.context ?? null, redis: { url: redis, prefix: redisPrefix } });
      const nodeFlags = [...(launch.nodeFlags ?? []), ...(profiled.has(r.target.id) ? ['--cpu-prof', '--cpu-prof-dir', profileDir(r.target.id)] : [])];
      const child = spawnNode({ name: r.target.id, script: launch.script, args: launch.args, env: launch.env, cpu: GATEWAY_CPU, nodeFlags });
      const check = r.scenario.checker();
      let last = '';
      try {
        await waitUntil(
          child,
          async () => {
            const { status, body } = await send(r.port, r.scenario.request);
            last = `${status} ${body.slice(0, 300)}`;
            return status === 200 && check(body) !== 'mismatch';
          },
          120_000,
        );
        r.child = child;
        r.run.pid = child.pid;
        log(`  ${r.target.id} ready (pid ${child.pid}, port ${r.port})`);
      } catch (error) {
        r.run.startError = `${(error as Error).message.split('\n')[0]}; last answer: ${last}`;
        log(`  ${r.target.id} did not start: ${(error as Error).message}\n  last answer: ${last}`);
        await child.stop();
      }
    }),
  );
  const live = running.filter((r) => r.child);

  // Are the subgraphs fast enough? Replay one query's subgraph requests per planner, straight at them.
  const subgraphChecks: SubgraphCheck[] = [];
  if (fixture) {
    const checker = await LoadGenerator.start(GATEWAY_CPU, 'load generator (subgraph check)');
    const families = new Map<string, Running>();
    for (const r of live) if (r.target.planFamily && !families.has(r.target.planFamily)) families.set(r.target.planFamily, r);
    for (const [family, r] of families) {
      const recorded = await fixture.record(async () => void (await send(r.port, r.scenario.request)));
      const perSubgraph: Record<string, number> = {};
      for (const { subgraph } of recorded) perSubgraph[subgraph] = (perSubgraph[subgraph] ?? 0) + 1;
      const result = await checker.run({
        url: fixture.baseUrl,
        requests: recorded.map(({ subgraph, body }) => ({ method: 'POST', path: `/${subgraph}`, headers: { 'content-type': 'application/json' }, body })),
        model: 'closed',
        connections: settings.connections,
        warmupSeconds: 1,
        seconds: settings.checkSeconds,
      });
      const check = {
        planFamily: family,
        recordedThrough: r.target.id,
        subgraphRequestsPerQuery: recorded.length,
        perSubgraph,
        subgraphRps: result.rps,
        subgraphP99Ms: result.latencyMs.p99,
        errors: result.errors.total,
        queriesPerSecond: result.rps / recorded.length,
      };
      subgraphChecks.push(check);
      log(`subgraphs alone, ${family} plan (${recorded.length} requests/query): ${fmt(check.subgraphRps)} rps = ${fmt(check.queriesPerSecond)} queries/s`);
    }
    await checker.stop();
  }

  // Rounds.
  const generator = await LoadGenerator.start(SUPPORT_CPU);
  let openRate = rateFlag;
  const measure = async (r: Running, round: number, job: LoadJob): Promise<Measurement> => {
    // Sampled at the edges of the load generator's measured window (after its warm-up).
    let meter: (() => Record<string, number>) | null = null;
    let cpu: Record<string, number> = {};
    let servedBefore: Promise<Record<string, number>> | null = null;
    let servedAfter: Promise<Record<string, number>> | null = null;
    const pids = { target: r.child!.pid, ...(fixture ? { subgraphs: fixture.child.pid } : {}) };
    const window = { from: 0, to: 0 };
    const load = await generator.run(job, (mark) => {
      if (mark === 'start') {
        window.from = Date.now();
        meter = cpuMeter(pids, [GATEWAY_CPU]);
        servedBefore = fixture?.served() ?? null;
      } else {
        window.to = Date.now();
        cpu = meter!();
        servedAfter = fixture?.served() ?? null;
      }
    });
    const [before, after] = await Promise.all([servedBefore, servedAfter]);
    const subgraphRequests = before && after ? Object.keys(after).reduce((n, k) => n + after[k]! - (before[k] ?? 0), 0) : null;
    const loadNow = loadAverage()[0];
    loadDuring.push(loadNow);
    return {
      round,
      model: job.model,
      load,
      targetCpu: cpu.target!,
      otherCpuOnTargetCpu: HAS_TASKSET ? Math.max(0, cpu[`cpu${GATEWAY_CPU}`]! - cpu.target!) : null,
      subgraphCpu: fixture ? cpu.subgraphs! : null,
      subgraphRequests,
      peakRssMiB: peakRssMiB(r.child!.pid),
      loadAverage1m: loadNow,
      window,
    };
  };
  const job = (r: Running, model: 'closed' | 'open'): LoadJob => ({
    url: `http://127.0.0.1:${r.port}`,
    requests: [r.scenario.request],
    scenario: r.scenario.id,
    model,
    // The open model needs no warm-up (the closed runs warmed every target); only a 1 s lead-in.
    warmupSeconds: model === 'closed' ? settings.warmupSeconds : 1,
    seconds: settings.seconds,
    connections: settings.connections,
    rate: openRate ?? undefined,
  });
  const report = (r: Running, m: Measurement, label: string) =>
    log(
      `${label} ${r.target.id}: ${fmt(m.load.rps)} rps, p50 ${fmt(m.load.latencyMs.p50)} p99 ${fmt(m.load.latencyMs.p99)} ms, ` +
        `errors ${m.load.errors.total}${m.load.warmupErrors ? ` (+${m.load.warmupErrors} in warm-up)` : ''}, cpu ${m.targetCpu.toFixed(2)}` +
        `${m.otherCpuOnTargetCpu === null ? '' : ` (+${m.otherCpuOnTargetCpu.toFixed(2)} other)`}` +
        `${m.subgraphCpu === null ? '' : `, subgraphs ${m.subgraphCpu.toFixed(2)} cpu ${m.load.responses ? (m.subgraphRequests! / m.load.responses).toFixed(1) : '-'} req/query`}` +
        `, loadgen ${m.load.loadGeneratorCpu.toFixed(2)}, rss ${Math.round(m.peakRssMiB)} MiB, load ${m.loadAverage1m}`,
    );

  for (let round = 0; round < settings.rounds; round++) {
    const shift = round % live.length;
    const order = [...live.slice(shift), ...live.slice(0, shift)];
    if (settings.models.includes('closed')) {
      for (const r of order) {
        const m = await measure(r, round + 1, job(r, 'closed'));
        r.run.measurements.push(m);
        report(r, m, `round ${round + 1}/${settings.rounds} closed`);
      }
    }
    if (settings.models.includes('open')) {
      if (openRate === null) {
        // Half the slowest gateway's throughput: every gateway should keep up, and the latencies compare.
        const closed = live.filter((r) => r.target.kind === 'gateway').map((r) => r.run.measurements.find((m) => m.model === 'closed')?.load.rps ?? NaN);
        const slowest = Math.min(...closed.filter(Number.isFinite));
        openRate = Number.isFinite(slowest) ? Math.max(1, Math.round(slowest / 2)) : 10;
        info.settings.openRate = openRate;
        log(`open model: ${openRate} requests/s offered (half the slowest gateway's closed-model RPS${settings.models.includes('closed') ? '' : '; no closed run, default 10'})`);
      }
      info.settings.openRate = openRate;
      for (const r of order) {
        const m = await measure(r, round + 1, job(r, 'open'));
        r.run.measurements.push(m);
        report(r, m, `round ${round + 1}/${settings.rounds} open ${openRate}/s`);
      }
    }
  }
  await generator.stop();

  // Stop the targets first: a profiled one writes its profile as it exits.
  const exited = new Map<string, number>();
  await Promise.all(running.map(async (r) => r.child && (await r.child.stop(), exited.set(r.target.id, Date.now()))));
  await stopAll();
  for (const r of running) {
    const file = profiled.has(r.target.id) ? findProfile(profileDir(r.target.id)) : null;
    if (file) r.run.profile = summariseProfile(file, { windows: r.run.measurements.map((m) => m.window), endedAtMs: exited.get(r.target.id)! });
  }

  // Report.
  info.loadAverage.during = loadDuring.length ? { min: Math.min(...loadDuring), median: median(loadDuring), max: Math.max(...loadDuring) } : null;
  info.loadAverage.after = loadAverage();
  info.durationSeconds = Math.round((Date.now() - started) / 1000);
  const results: ScenarioResult[] = scenarios.map((scenario) => ({
    scenario: { id: scenario.id, title: scenario.title, baseline: scenario.baseline },
    targets: scenario.targets.flatMap((t) => running.filter((r) => r.target.id === t.id).map((r) => r.run)),
    // The subgraph check belongs to the first scenario that federates (A when it runs).
    subgraphChecks: scenario === scenarios.find((s) => s.fixture === 'federation') ? subgraphChecks : [],
  }));
  const rendered = results.map((r) => ({ r, text: renderScenario(r, info) }));
  for (const { r, text } of rendered) process.stdout.write(`\n## ${r.scenario.title}\n\n${text}\n`);
  for (const r of running) if (r.run.profile) process.stdout.write(`\n${renderProfile(r.run.target.label, r.run.profile)}\n`);
  if (!flags['no-write']) {
    mkdirSync(join(ROOT, 'tmp/bench'), { recursive: true });
    writeJson(jsonFile, info, results);
    for (const { r, text } of rendered) updateMarkdown(markdownFile, r, text);
    log(`\nwrote ${jsonFile} and ${markdownFile}`);
  }
  const mismatches = results.flatMap((r) => r.targets).reduce((n, t) => n + (summarise(t, 'closed')?.checks.mismatch ?? 0) + (summarise(t, 'open')?.checks.mismatch ?? 0), 0);
  // The keys expire within a minute anyway: a failed clean-up is not a failed run.
  if (redis) await deleteRedisKeys(redis, redisPrefix).catch(() => undefined);
  process.exitCode = mismatches > 0 || running.some((r) => r.run.startError) ? 1 : 0;
}

/** A flag's number, or an error saying which flag is wrong (NaN would silently skip a phase). */
function nonNegative(flag: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new Error(`${flag} must be a number of seconds, 0 or more`);
  return value;
}

/**
 * Scenarios B and D have their own runner (database, login, request types, cache states):
 * scenarios/b-supergraph.ts; D is B's setup under many open connections (d-thousand-users.ts).
 */
async function mainB(d: boolean) {
  const redis = await redisUrl();
  if (!redis) throw new Error('scenario B needs real Redis (BENCH_REDIS_URL, default redis://127.0.0.1:6379)');
  const command = process.env.npm_lifecycle_event === 'bench' ? `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim() : `npx tsx test/bench/run.ts ${process.argv.slice(2).join(' ')}`.trim();
  process.exitCode = await runScenarioB({
    seconds: Number(flags.seconds ?? (quick ? 3 : d ? 60 : 15)),
    // Long enough for every path to be compiled and every pool filled: a start-up hiccup leaves
    // an open-model backlog that takes seconds to drain at 200 requests/s.
    warmupSeconds: Number(flags.warmup ?? (quick ? 1 : 10)),
    jitWarmupSeconds: nonNegative('--jit-warmup', Number(flags['jit-warmup'] ?? (quick ? 1 : 10))),
    connections: settings.connections,
    rate: rateFlag ?? (d ? 500 : 200),
    loginRate: Number(flags['login-rate']),
    models: settings.models,
    manyConnections: d
      ? {
          connections: Number(flags['open-connections']),
          rate: rateFlag ?? 500,
          types: flags.types ? flags.types.split(',').map((t) => t.trim()) : D_REQUEST_TYPES,
          timeoutMs: Number(flags['client-timeout']),
          compareAdmission: flags['compare-admission'] ?? null,
        }
      : null,
    caches: (d && !process.argv.some((a) => a.startsWith('--cache')) ? 'warm' : flags.cache).split(',').map((c) => c.trim()) as ('warm' | 'cold')[],
    types: flags.types ? flags.types.split(',').map((t) => t.trim()) : null,
    profile: flags.profile ? flags.profile.split(',').map((t) => t.trim()) : [],
    pin: flags.pin,
    rounds: Number(flags.rounds ?? (quick || d ? 1 : 3)),
    redisUrl: redis,
    command,
    jsonFile: flags['no-write'] ? null : jsonFile,
    markdownFile: flags['no-write'] ? null : markdownFile,
  });
}

/** Scenario E (chart data over a million fact rows): its own runner, scenarios/e-bi.ts. */
async function mainE() {
  const redis = await redisUrl();
  if (!redis) throw new Error('scenario E needs real Redis (BENCH_REDIS_URL, default redis://127.0.0.1:6379)');
  const command = process.env.npm_lifecycle_event === 'bench' ? `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim() : `npx tsx test/bench/run.ts ${process.argv.slice(2).join(' ')}`.trim();
  const positive = (name: string, value: string) => {
    const n = Number(value);
    if (!(Number.isInteger(n) && n > 0)) throw new Error(`--${name} must be a positive integer`);
    return n;
  };
  process.exitCode = await runScenarioE({
    rows: positive('rows', flags.rows),
    rounds: positive('rounds', flags.rounds ?? (quick ? '1' : '3')),
    coldSamples: positive('cold-samples', flags['cold-samples']),
    warmSamples: positive('warm-samples', flags['warm-samples']),
    ablate: flags.ablate === undefined ? chartIndexes(ROOT) : flags.ablate === 'none' ? [] : flags.ablate.split(',').map((x) => x.trim()).filter(Boolean),
    redisUrl: redis,
    profile: flags.profile ? flags.profile.split(',').map((t) => t.trim()).filter(Boolean) : [],
    command,
    jsonFile: flags['no-write'] ? null : jsonFile,
    markdownFile: flags['no-write'] ? null : markdownFile,
  });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void stopAll().finally(() => process.exit(130)));
}
try {
  const only = flags.scenario.trim().toUpperCase();
  if (only === 'B' || only === 'D') await mainB(only === 'D');
  else if (only === 'E') await mainE();
  else await main();
} catch (error) {
  log(`bench failed: ${(error as Error).stack ?? error}`);
  await stopAll();
  process.exitCode = 1;
}
