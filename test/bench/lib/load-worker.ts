/**
 * The load generator process (autocannon 9), started by the runner on the support CPU and driven
 * over IPC, so that generating load and checking responses never shares a process (or a CPU)
 * with the target. One job = one measurement: one autocannon run of warm-up, measured window and
 * a short tail; only the window counts, so it sees the steady state (connections open, requests
 * in flight at both ends), and the runner samples CPU and counters at the window's edges.
 *
 * - closed model: a fixed number of connections, each sending its next request when the previous
 *   answer arrives: maximum throughput (RPS) and latency under saturation.
 * - open model: a fixed offered rate. autocannon's rate limit gives each connection a per-second
 *   budget released on a 1 s timer, and every connection's timer starts when it is created; we
 *   give each connection a budget of 1 request/s and create them one by one, 1/rate s apart, so
 *   arrivals are evenly spaced over each second (constant arrival rate). A connection still
 *   waiting when its next slot comes sends late (so above 1 s of latency the arrival rate
 *   falls: the report shows achieved against offered). Latency is measured from the actual
 *   send; autocannon's own coordinated-omission correction is off because it assumes
 *   a 1 ms interval whatever the rate.
 *
 * Every response body goes through the scenario's checker; a response that is not 2xx or not
 * right counts as an error.
 */
import { createRequire } from 'node:module';
import { SCENARIOS } from '../scenarios/index.ts';
import type { CheckOutcome, HttpRequestSpec, ResponseChecker } from '../scenarios/types.ts';

const require = createRequire(import.meta.url);

/** The parts of autocannon's API used here (it ships no types). */
interface AutocannonInstance extends PromiseLike<unknown> {
  on(event: 'response', listener: (client: unknown, statusCode: number, resBytes: number, responseTime: number) => void): void;
  on(event: 'reqError', listener: (error: Error) => void): void;
  stop(): void;
}
type Autocannon = (options: Record<string, unknown>) => AutocannonInstance;
const autocannon = require('autocannon') as Autocannon;

export interface LoadJob {
  /** `http://127.0.0.1:<port>`; request paths come from `requests`. */
  url: string;
  /** Sent in turn by every connection. */
  requests: HttpRequestSpec[];
  /** Scenario whose checker judges each body; none: only the status counts. */
  scenario?: string;
  model: 'closed' | 'open';
  /** Load before the measured window opens (same connections, not counted). */
  warmupSeconds: number;
  /** The measured window. */
  seconds: number;
  /** Closed model. */
  connections?: number;
  /** Open model: offered requests per second. */
  rate?: number;
}

export interface LoadResult {
  model: 'closed' | 'open';
  seconds: number;
  connections: number;
  offeredRate: number | null;
  responses: number;
  rps: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number; mean: number };
  errors: { total: number; connection: number; timeouts: number; non2xx: number; mismatches: number };
  checks: Record<CheckOutcome, number>;
  /** Errors during the warm-up (not in `errors`), so a bad warm-up is not silent. */
  warmupErrors: number;
  firstMismatch: string | null;
  meanResponseBytes: number;
  /** CPU the load generator itself used during the window, in cores. */
  loadGeneratorCpu: number;
}

/** Window boundaries, sent to the runner as they happen (it samples CPU and counters there). */
export type Mark = 'start' | 'end';

const checkers = new Map<string, ResponseChecker>();
function checkerFor(scenario: string | undefined): ResponseChecker | null {
  if (!scenario) return null;
  let checker = checkers.get(scenario);
  if (!checker) {
    const found = SCENARIOS.find((s) => s.id === scenario);
    if (!found) throw new Error(`unknown scenario ${scenario}`);
    checker = found.checker();
    checkers.set(scenario, checker);
  }
  return checker;
}

/** Open model: beyond this rate connections share a start instant (each sends 1 request/s). */
const MAX_OPEN_CONNECTIONS = 2000;

export const percentile = (sorted: ArrayLike<number>, q: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]! : NaN;

/**
 * One autocannon run of warm-up + window (+ a short tail), so the window sees the steady state:
 * connections open, the target busy, requests in flight at both ends. Only what happens inside
 * the window is counted (responses, latencies, errors, checks).
 */
async function run(job: LoadJob, mark: (m: Mark) => void): Promise<LoadResult> {
  const checker = checkerFor(job.scenario);
  const checks: Record<CheckOutcome, number> = { exact: 0, equivalent: 0, mismatch: 0 };
  const errors = { connection: 0, timeouts: 0, non2xx: 0, mismatches: 0 };
  let warmupErrors = 0;
  let firstMismatch: string | null = null;
  let inWindow = false;
  const latencies: number[] = [];
  let bytes = 0;

  const verifyBody = (body: string) => {
    if (!checker) return true;
    const outcome = checker(body);
    if (outcome === 'mismatch' && firstMismatch === null) firstMismatch = body.slice(0, 2000);
    if (inWindow) checks[outcome]++;
    else if (outcome === 'mismatch') warmupErrors++;
    return outcome !== 'mismatch';
  };
  const base = {
    url: job.url,
    requests: job.requests.map((r) => ({ method: r.method, path: r.path, headers: r.headers, body: r.body })),
    verifyBody,
    // A request that takes this long is an error (timeout), not a data point.
    timeout: 30,
  };
  // The open model's connection groups start over the first second: the window opens after that.
  const lead = job.model === 'open' ? Math.max(1, job.warmupSeconds) : job.warmupSeconds;
  const tail = 0.5;
  const start = (options: Record<string, unknown>, offsetSeconds = 0) => {
    const instance = autocannon({ ...base, duration: lead + job.seconds + tail - offsetSeconds, ...options });
    instance.on('response', (_client, status, resBytes, responseTime) => {
      if (!inWindow) {
        if (status < 200 || status > 299) warmupErrors++;
        return;
      }
      latencies.push(responseTime);
      bytes += resBytes;
      if (status < 200 || status > 299) errors.non2xx++;
    });
    instance.on('reqError', (error: Error) => {
      if (!inWindow) warmupErrors++;
      else if (error.message === 'request timed out') errors.timeouts++;
      else errors.connection++;
    });
    return instance;
  };

  let cpuBefore = process.cpuUsage();
  let cpu = { user: 0, system: 0 };
  let windowStarted = 0;
  let windowSeconds = job.seconds;
  const opened = new Promise<void>((resolve) =>
    setTimeout(() => {
      inWindow = true;
      windowStarted = performance.now();
      cpuBefore = process.cpuUsage();
      mark('start');
      resolve();
    }, lead * 1000),
  );
  const closed = opened.then(
    () =>
      new Promise<void>((resolve) =>
        setTimeout(() => {
          inWindow = false;
          windowSeconds = (performance.now() - windowStarted) / 1000;
          cpu = process.cpuUsage(cpuBefore);
          mark('end');
          resolve();
        }, job.seconds * 1000),
      ),
  );

  let connections: number;
  const runs: PromiseLike<unknown>[] = [];
  if (job.model === 'closed') {
    connections = job.connections ?? 50;
    runs.push(start({ connections }));
  } else {
    const rate = Math.max(1, Math.round(job.rate ?? 1));
    connections = rate;
    // One connection per slot of the second, started 1/rate s apart: arrivals evenly spaced, as
    // k6's constant-arrival-rate and wrk2 send them. (Starting them in 20 groups, as this did at
    // first, fired rate/20 requests at the same instant every 50 ms: a burst of 10 at 200/s,
    // which measured queueing behind the burst rather than the target's latency.)
    const groups = Math.min(rate, MAX_OPEN_CONNECTIONS);
    for (let g = 0; g < groups; g++) {
      const size = Math.floor(rate / groups) + (g < rate % groups ? 1 : 0);
      const offset = g / groups;
      runs.push(
        new Promise<void>((r) => setTimeout(r, offset * 1000)).then(() =>
          start({ connections: size, connectionRate: 1, ignoreCoordinatedOmission: true }, offset),
        ),
      );
    }
  }
  await Promise.all([...runs, closed]);

  latencies.sort((a, b) => a - b);
  errors.mismatches = checks.mismatch;
  return {
    model: job.model,
    seconds: windowSeconds,
    connections,
    offeredRate: job.model === 'open' ? connections : null,
    responses: latencies.length,
    rps: latencies.length / windowSeconds,
    latencyMs: {
      p50: percentile(latencies, 0.5),
      p95: percentile(latencies, 0.95),
      p99: percentile(latencies, 0.99),
      max: latencies.length ? latencies[latencies.length - 1]! : NaN,
      mean: latencies.length ? latencies.reduce((a, b) => a + b, 0) / latencies.length : NaN,
    },
    // With a checker every non-2xx body is also a mismatch: count such a response once.
    errors: { total: errors.connection + errors.timeouts + Math.max(errors.non2xx, errors.mismatches), ...errors },
    checks,
    warmupErrors,
    firstMismatch,
    meanResponseBytes: latencies.length ? bytes / latencies.length : 0,
    loadGeneratorCpu: (cpu.user + cpu.system) / 1e6 / windowSeconds,
  };
}

if (process.send) {
  process.on('message', (message: { id: number; job: LoadJob }) => {
    run(message.job, (mark) => process.send!({ id: message.id, mark })).then(
      (result) => process.send!({ id: message.id, result }),
      (error: Error) => process.send!({ id: message.id, error: error.stack ?? error.message }),
    );
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ ready: true });
}
