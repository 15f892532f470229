import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Scenario, Target } from '../scenarios/types.ts';
import type { LoadResult } from './load-worker.ts';
import type { MachineInfo } from './machine.ts';
import type { ProfileSummary } from './profile.ts';

/** One measured run of one target (one round, one model) plus what was sampled around it. */
export interface Measurement {
  round: number;
  model: 'closed' | 'open';
  load: LoadResult;
  /** CPU the target used during the run, in cores (1.0 = one CPU busy all the time). */
  targetCpu: number;
  /** CPU time other processes (or the hypervisor: steal) took on the target's CPU, in cores: the noise. */
  otherCpuOnTargetCpu: number | null;
  /** CPU the subgraphs process used during the run, in cores (null: no subgraphs). */
  subgraphCpu: number | null;
  /** Requests the subgraphs served during the run. */
  subgraphRequests: number | null;
  /** Target's peak RSS so far (VmHWM), MiB. */
  peakRssMiB: number;
  /** 1-minute load average at the end of the run. */
  loadAverage1m: number;
  /** The measured window on the wall clock (Date.now), for matching profile samples. */
  window: { from: number; to: number };
}

export interface TargetRun {
  target: Pick<Target, 'id' | 'label' | 'kind' | 'dedup'>;
  pid: number | null;
  startError: string | null;
  measurements: Measurement[];
  /** With `--profile <id>`: where its CPU time went. */
  profile: ProfileSummary | null;
}

export interface ModelSummary {
  rounds: number;
  rps: number;
  rpsPerRound: number[];
  offeredRate: number | null;
  latencyMs: { p50: number; p95: number; p99: number };
  responses: number;
  errors: number;
  checks: { exact: number; equivalent: number; mismatch: number };
  targetCpuCores: number;
  targetCpuMsPerRequest: number;
  otherCpuOnTargetCpu: number | null;
  peakRssMiB: number;
  subgraphRequestsPerQuery: number | null;
  subgraphCpuCores: number | null;
  loadGeneratorCpuCores: number;
  firstMismatch: string | null;
}

export interface SubgraphCheck {
  planFamily: string;
  recordedThrough: string;
  subgraphRequestsPerQuery: number;
  perSubgraph: Record<string, number>;
  /** The subgraphs alone, loaded with one query's worth of requests in a loop. */
  subgraphRps: number;
  subgraphP99Ms: number;
  errors: number;
  /** subgraphRps / subgraphRequestsPerQuery: queries per second the subgraphs could feed. */
  queriesPerSecond: number;
}

export interface RunInfo {
  date: string;
  command: string;
  machine: MachineInfo;
  versions: Record<string, string>;
  git: string;
  settings: {
    seconds: number;
    warmupSeconds: number;
    rounds: number;
    connections: number;
    openRate: number | null;
    models: string[];
    quick: boolean;
    pinning: string;
  };
  redis: string;
  loadAverage: { before: number[]; during: { min: number; median: number; max: number } | null; after: number[] | null };
  durationSeconds: number;
}

export const median = (xs: number[]) => {
  const sorted = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!sorted.length) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export function summarise(run: TargetRun, model: 'closed' | 'open'): ModelSummary | null {
  const ms = run.measurements.filter((m) => m.model === model);
  if (!ms.length) return null;
  const sum = (f: (m: Measurement) => number) => ms.reduce((n, m) => n + f(m), 0);
  const perQuery = ms.map((m) => (m.subgraphRequests === null || !m.load.responses ? NaN : m.subgraphRequests / m.load.responses));
  return {
    rounds: ms.length,
    rps: median(ms.map((m) => m.load.rps)),
    rpsPerRound: ms.map((m) => round(m.load.rps, 1)),
    offeredRate: ms[0]!.load.offeredRate,
    latencyMs: {
      p50: median(ms.map((m) => m.load.latencyMs.p50)),
      p95: median(ms.map((m) => m.load.latencyMs.p95)),
      p99: median(ms.map((m) => m.load.latencyMs.p99)),
    },
    responses: sum((m) => m.load.responses),
    errors: sum((m) => m.load.errors.total),
    checks: {
      exact: sum((m) => m.load.checks.exact),
      equivalent: sum((m) => m.load.checks.equivalent),
      mismatch: sum((m) => m.load.checks.mismatch),
    },
    targetCpuCores: median(ms.map((m) => m.targetCpu)),
    otherCpuOnTargetCpu: ms[0]!.otherCpuOnTargetCpu === null ? null : median(ms.map((m) => m.otherCpuOnTargetCpu!)),
    targetCpuMsPerRequest: median(ms.map((m) => (m.load.rps ? (m.targetCpu * 1000) / m.load.rps : NaN))),
    peakRssMiB: Math.max(...ms.map((m) => m.peakRssMiB)),
    subgraphRequestsPerQuery: ms[0]!.subgraphRequests === null ? null : median(perQuery),
    subgraphCpuCores: ms[0]!.subgraphCpu === null ? null : median(ms.map((m) => m.subgraphCpu!)),
    loadGeneratorCpuCores: median(ms.map((m) => m.load.loadGeneratorCpu)),
    firstMismatch: ms.find((m) => m.load.firstMismatch)?.load.firstMismatch ?? null,
  };
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
/** RPS and milliseconds: one decimal below 100, whole numbers above. */
const num = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x < 100 ? x.toFixed(1) : Math.round(x).toLocaleString('en-US'));
const cores = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(2));
/** Two decimals, or two significant digits for small fractions (our RPS over the ceiling's). */
const ratio = (x: number) => (!Number.isFinite(x) ? '-' : x >= 0.1 ? x.toFixed(2) : x.toPrecision(2));

export interface ScenarioResult {
  scenario: Pick<Scenario, 'id' | 'title' | 'baseline'>;
  targets: TargetRun[];
  subgraphChecks: SubgraphCheck[];
}

function dedupLabel(dedup: Target['dedup']) {
  return dedup === null ? 'none' : dedup;
}

/** A scenario's tables, as Markdown (the same text is printed and written to BENCHMARKS.md). */
export function renderScenario(result: ScenarioResult, info: RunInfo): string {
  const { scenario, targets } = result;
  const lines: string[] = [];
  const s = info.settings;
  const la = info.loadAverage;
  lines.push(
    `${info.date.slice(0, 16).replace('T', ' ')} UTC, ${info.machine.cpus} vCPU ${info.machine.model}, ${info.machine.memoryGiB} GiB, Node ${info.machine.node.slice(1)}, git ${info.git}.`,
    `autocannon ${info.versions.autocannon}; closed model: ${s.connections} connections, ${s.warmupSeconds} s warm-up then ${s.seconds} s measured;` +
      (s.models.includes('open') ? ` open model: ${s.openRate ?? '-'} requests/s offered for ${s.seconds} s;` : '') +
      ` targets interleaved (order rotated each round), ${s.rounds} round${s.rounds === 1 ? '' : 's'}, median. ${s.pinning}`,
    `Load average (1/5/15 min) before: ${la.before.join(' / ')}; 1-min during the run: ${la.during ? `${la.during.min}-${la.during.max} (median ${Math.round(la.during.median * 100) / 100})` : '-'}.`,
    '',
    '```sh',
    info.command,
    '```',
    '',
  );
  const base = targets.find((t) => t.target.id === scenario.baseline);
  const baseClosed = base ? summarise(base, 'closed') : null;
  const baseName = scenario.baseline === 'apollo' ? 'plain Apollo' : scenario.baseline;

  const closedRows = targets.map((t) => ({ t, c: summarise(t, 'closed') }));
  if (closedRows.some((r) => r.c)) {
    lines.push(
      `Closed model (max throughput):`,
      '',
      `| target | dedup | RPS | x ${baseName} | p50 ms | p95 ms | p99 ms | errors | peak RSS MiB | CPU cores | CPU ms/req | other load on its CPU | subgraph req/query | subgraph CPU | load-gen CPU | RPS per round |`,
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const { t, c } of closedRows) {
      if (!c) {
        lines.push(`| ${t.target.label} | ${dedupLabel(t.target.dedup)} | did not run: ${t.startError ?? 'no measurement'} |||||||||||||`);
        continue;
      }
      lines.push(
        `| ${t.target.label} | ${dedupLabel(t.target.dedup)} | ${num(c.rps)} | ${baseClosed ? ratio(c.rps / baseClosed.rps) : '-'} | ${num(c.latencyMs.p50)} | ${num(c.latencyMs.p95)} | ${num(c.latencyMs.p99)} | ${c.errors} | ${Math.round(c.peakRssMiB)} | ${cores(c.targetCpuCores)} | ${num(c.targetCpuMsPerRequest)} | ${cores(c.otherCpuOnTargetCpu)} | ${c.subgraphRequestsPerQuery === null ? '-' : c.subgraphRequestsPerQuery.toFixed(1)} | ${cores(c.subgraphCpuCores)} | ${cores(c.loadGeneratorCpuCores)} | ${c.rpsPerRound.join(', ')} |`,
      );
    }
    lines.push('');
  }

  const openRows = targets.map((t) => ({ t, o: summarise(t, 'open') })).filter((r) => r.o);
  if (openRows.length) {
    lines.push(
      `Open model (fixed offered rate, latency):`,
      '',
      '| target | offered req/s | achieved RPS | p50 ms | p95 ms | p99 ms | errors | CPU cores | CPU ms/req | other load on its CPU |',
      '|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const { t, o } of openRows) {
      lines.push(
        `| ${t.target.label} | ${o!.offeredRate} | ${num(o!.rps)} | ${num(o!.latencyMs.p50)} | ${num(o!.latencyMs.p95)} | ${num(o!.latencyMs.p99)} | ${o!.errors} | ${cores(o!.targetCpuCores)} | ${num(o!.targetCpuMsPerRequest)} | ${cores(o!.otherCpuOnTargetCpu)} |`,
      );
    }
    lines.push('');
  }

  if (result.subgraphChecks.length) {
    lines.push(
      'Subgraphs alone (are they the bottleneck?): one query\'s subgraph requests, recorded through each planner, replayed in a loop straight at the subgraphs (50 connections, load generator on the gateway CPU):',
      '',
      '| planner | recorded through | subgraph req/query | subgraph RPS alone | p99 ms | errors | queries/s the subgraphs can feed |',
      '|---|---|---|---|---|---|---|',
    );
    for (const c of result.subgraphChecks) {
      lines.push(`| ${c.planFamily} | ${c.recordedThrough} | ${c.subgraphRequestsPerQuery} | ${num(c.subgraphRps)} | ${num(c.subgraphP99Ms)} | ${c.errors} | ${num(c.queriesPerSecond)} |`);
    }
    lines.push('');
  }

  // Against a ceiling, say it in words too: what fraction of the machine's HTTP capacity is left.
  if (base && base.target.kind === 'ceiling' && baseClosed) {
    for (const { t, c } of closedRows) {
      if (c && t.target.kind === 'gateway') {
        lines.push(`${t.target.label}: ${((c.rps / baseClosed.rps) * 100).toFixed(2)}% of the ceiling's RPS (${num(c.rps)} of ${num(baseClosed.rps)}).`, '');
      }
    }
  }

  const checked = closedRows.concat(openRows.map((r) => ({ t: r.t, c: r.o }))).filter((r) => r.c);
  const checks = checked.reduce(
    (acc, r) => ({ exact: acc.exact + r.c!.checks.exact, equivalent: acc.equivalent + r.c!.checks.equivalent, mismatch: acc.mismatch + r.c!.checks.mismatch }),
    { exact: 0, equivalent: 0, mismatch: 0 },
  );
  lines.push(
    `Responses checked against the direct (non-federated) computation: ${(checks.exact + checks.equivalent + checks.mismatch).toLocaleString('en-US')}, ` +
      `${checks.mismatch} mismatches (${checks.exact.toLocaleString('en-US')} byte-identical, ${checks.equivalent.toLocaleString('en-US')} equal as JSON).`,
  );
  return lines.join('\n');
}

/** Merges this run's scenarios into the JSON file (other scenarios' last results are kept). */
export function writeJson(file: string, info: RunInfo, results: ScenarioResult[]) {
  const existing = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { scenarios?: Record<string, unknown> }) : {};
  const scenarios = { ...(existing.scenarios ?? {}) };
  for (const r of results) {
    scenarios[r.scenario.id] = {
      title: r.scenario.title,
      baseline: r.scenario.baseline,
      run: info,
      subgraphChecks: r.subgraphChecks,
      targets: r.targets.map((t) => ({
        id: t.target.id,
        label: t.target.label,
        kind: t.target.kind,
        dedup: t.target.dedup,
        startError: t.startError,
        profile: t.profile,
        closed: summarise(t, 'closed'),
        open: summarise(t, 'open'),
        measurements: t.measurements,
      })),
    };
  }
  writeFileSync(file, `${JSON.stringify({ generatedBy: 'npm run bench (test/bench/run.ts)', scenarios }, null, 2)}\n`);
}

/**
 * Replaces a scenario's generated block in BENCHMARKS.md (between `<!-- bench:<id>:start -->` and
 * `<!-- bench:<id>:end -->`), or appends it under its title. Text outside the markers is left alone.
 */
export function updateMarkdown(file: string, result: ScenarioResult, rendered: string) {
  const start = `<!-- bench:${result.scenario.id}:start -->`;
  const end = `<!-- bench:${result.scenario.id}:end -->`;
  const block = `${start}\n${rendered}\n${end}`;
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  const next = from >= 0 && to > from ? text.slice(0, from) + block + text.slice(to + end.length) : `${text.trimEnd()}\n\n### ${result.scenario.title}\n\n${block}\n`;
  writeFileSync(file, next);
}
