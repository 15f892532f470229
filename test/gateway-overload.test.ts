import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { productionNodeFlags } from '../gateway/node-flags.ts';
import { repoPath } from '../subgraphs/kit/paths.ts';
import type { OverloadJob } from './support/overload-gateway.ts';

/**
 * Issue 15: offered far more than it can serve, the gateway refuses the excess at once (503
 * OVERLOADED), serves what it accepts within the queue bound, keeps /health fast and its memory
 * flat, and serves fully again right after the load ends. The gateway runs in a process of its
 * own (test/support/overload-gateway.ts) over a fake subgraph that cannot keep up; the load comes
 * from this process, open (callers arriving at a rate, whatever the answers: what refusing is
 * for) and closed (callers that resend at once, whom refusing only answers with 503s: the reason
 * for GATEWAY_QUEUE_TARGET_MS, gateway/admission.ts).
 * Bounds are generous (shared 2-core machine): the point is milliseconds for a refusal against
 * the seconds an unbounded queue made clients wait.
 */

const QUEUE_TIMEOUT_MS = 1000;
const LOAD_SECONDS = 3;
// Every request here is the same document: shared (operation-dedup.ts, and their fetches in
// subgraph-client.ts) they would hardly load anything, and overload is many distinct operations.
// So sharing is off.
const ENV = {
  NODE_ENV: 'production',
  RATE_LIMIT_PER_MINUTE_IP: '100000000',
  GATEWAY_QUEUE_TIMEOUT_MS: String(QUEUE_TIMEOUT_MS),
  GATEWAY_OPERATION_DEDUP: 'false',
  GATEWAY_FETCH_DEDUP: 'false',
};

interface Gateway {
  base: string;
  pid: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

async function startGateway(job: OverloadJob): Promise<Gateway> {
  // As production runs it (its node flags, NODE_ENV=production: no IDE, whose assets alone cost 100 MiB).
  const child = spawn(process.execPath, [...productionNodeFlags(), '--import', 'tsx', 'test/support/overload-gateway.ts', JSON.stringify(job)], {
    cwd: repoPath('.'),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', APOLLO_TELEMETRY_DISABLED: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const { base, pid } = await new Promise<{ base: string; pid: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the gateway did not start in 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((l) => l.startsWith('{"base"'));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as { base: string; pid: number });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the gateway exited with ${code}:\n${output}`));
    });
  });
  return {
    base,
    pid,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      }),
  };
}

const post = (base: string) =>
  fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ work }"}' });

const percentile = (values: number[], p: number) => {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
};

interface LoadResult {
  ok: number[];
  shed: number[];
  /** When each 200 and each 503 came back (performance.now()), and the load's start and end. */
  okAt: number[];
  shedAt: number[];
  startedAt: number;
  stoppedAt: number;
  other: string[];
  health: number[];
  /** From the moment no new request was sent: the last answer of the load, and the first 200 of a probe sent after it. */
  drainedMs: number;
  firstOkAfterMs: number;
}

/** One request of the load, its answer sorted into `result` (a failed request too: never a rejection). */
async function send(base: string, result: LoadResult): Promise<void> {
  const started = performance.now();
  let response: Response;
  let body: string;
  try {
    response = await post(base);
    body = await response.text();
  } catch (error) {
    result.other.push(String(error));
    return;
  }
  const ms = performance.now() - started;
  if (response.status === 200 && body.trim() === '{"data":{"work":"done"}}') {
    result.ok.push(ms);
    result.okAt.push(performance.now());
    return;
  }
  if (response.status === 503 && response.headers.get('retry-after') === '1' && body.includes('"OVERLOADED"')) {
    result.shed.push(ms);
    result.shedAt.push(performance.now());
    return;
  }
  result.other.push(`${response.status} ${body.slice(0, 200)}`);
}

/**
 * A load for `seconds`, with /health every 50 ms meanwhile:
 * - open: `rate` requests a second, evenly spaced, each sent whether or not the earlier ones were
 *   answered (callers arriving independently, as browsers do: what refusing is for);
 * - closed: `clients` loops, each sending its next request as soon as it has its answer, a 503
 *   included (callers that ignore Retry-After).
 * Then no new requests: the last answers are awaited while a probe is sent every 25 ms until one
 * is served.
 */
async function offer(base: string, load: { rate: number } | { clients: number }, seconds: number): Promise<LoadResult> {
  const result: LoadResult = { ok: [], shed: [], okAt: [], shedAt: [], startedAt: NaN, stoppedAt: NaN, other: [], health: [], drainedMs: NaN, firstOkAfterMs: NaN };
  const t0 = performance.now();
  result.startedAt = t0;
  let sending = true;
  const requests: Promise<unknown>[] = [];
  if ('rate' in load) {
    requests.push(
      (async () => {
        for (let i = 0; sending; i++) {
          requests.push(send(base, result));
          await sleep(Math.max(0, t0 + ((i + 1) * 1000) / load.rate - performance.now()));
        }
      })(),
    );
  } else {
    const loop = async () => {
      while (sending) await send(base, result);
    };
    requests.push(...Array.from({ length: load.clients }, loop));
  }
  // /health every 50 ms whatever the answers (not one after another: a probe caught in a stall
  // of the shared machine would otherwise take most of the window and leave a handful of samples).
  const probe = async () => {
    const started = performance.now();
    const response = await fetch(`${base}/health`);
    await response.text();
    result.health.push(performance.now() - started);
    expect(response.status).toBe(200);
  };
  const health = async () => {
    const probes: Promise<void>[] = [];
    while (sending) {
      probes.push(probe());
      await sleep(50);
    }
    await Promise.all(probes);
  };
  const monitoring = health();
  await sleep(seconds * 1000);
  sending = false;
  const stopped = performance.now();
  result.stoppedAt = stopped;
  const drained = (async () => {
    // (The open load's list grows until its sender stops: wait until nothing was added.)
    for (let n = -1; n !== requests.length; ) {
      n = requests.length;
      await Promise.all(requests);
    }
    await monitoring;
    result.drainedMs = performance.now() - stopped;
  })();
  for (;;) {
    const response = await post(base);
    await response.text();
    if (response.status === 200) break;
    await sleep(25);
  }
  result.firstOkAfterMs = performance.now() - stopped;
  await drained;
  return result;
}

/**
 * Of the load's 100 ms spells in which anything was answered (a stall of the host answers
 * nothing, and counts neither way), how many had a refusal.
 */
function refusingSpells(r: LoadResult): { refusing: number; spells: number } {
  const spellsOf = (times: number[]) => new Set(times.filter((at) => at <= r.stoppedAt).map((at) => Math.floor((at - r.startedAt) / 100)));
  const refusing = spellsOf(r.shedAt);
  return { refusing: refusing.size, spells: new Set([...refusing, ...spellsOf(r.okAt)]).size };
}

async function shedCounts(base: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Object.fromEntries([...text.matchAll(/^gateway_admission_shed_total\{reason="(\w+)"\} (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]));
}

/** Peak resident memory of a process (Linux), MiB. */
const peakRssMiB = (pid: number) => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

const summary = (r: LoadResult) =>
  `ok ${r.ok.length} (p50 ${percentile(r.ok, 0.5).toFixed(0)} p99 ${percentile(r.ok, 0.99).toFixed(0)} max ${Math.max(...r.ok).toFixed(0)} ms), ` +
  `503 ${r.shed.length} (p50 ${percentile(r.shed, 0.5).toFixed(1)} p90 ${percentile(r.shed, 0.9).toFixed(1)} p99 ${percentile(r.shed, 0.99).toFixed(1)} ms), ` +
  `health p50 ${percentile(r.health, 0.5).toFixed(1)} p90 ${percentile(r.health, 0.9).toFixed(1)} max ${Math.max(...r.health).toFixed(1)} ms, drained ${r.drainedMs.toFixed(0)} ms, first 200 after ${r.firstOkAfterMs.toFixed(0)} ms`;

/** The gateway's own histogram `name` (optionally one status): cumulative counts by upper bound (seconds). */
async function histogram(base: string, name: string, status?: number): Promise<Record<string, number>> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const m of text.matchAll(new RegExp(`^${name}_bucket\\{([^}]*)\\} (\\d+)$`, 'gm'))) {
    if (status !== undefined && !m[1]!.includes(`status="${status}"`)) continue;
    const le = /le="([^"]+)"/.exec(m[1]!)![1]!;
    counts[le] = (counts[le] ?? 0) + Number(m[2]);
  }
  return counts;
}

/**
 * What every overload run must show, whatever the bottleneck. Latency bounds are the gateway's
 * own measurements (its histograms: from reading the request to answering it); what this process
 * measures includes the machine's scheduling noise (seconds when the machine is busy), so it is
 * only compared with /health measured at the same time, which never queues.
 */
async function expectShedFastAndServedWithinBound(base: string, r: LoadResult, serviceMs: number) {
  const shed = await shedCounts(base);
  const served503 = await histogram(base, 'gateway_request_duration_seconds', 503);
  const served200 = await histogram(base, 'gateway_request_duration_seconds', 200);
  const waited = await histogram(base, 'gateway_admission_wait_seconds');
  console.log(`  shed ${JSON.stringify(shed)}; gateway-side 503 ${JSON.stringify(served503)}; 200 ${JSON.stringify(served200)}; admission wait ${JSON.stringify(waited)}`);
  expect(r.other).toEqual([]);
  // More was offered than served (five times its capacity: on a machine whose CPUs other work
  // also holds, the gateway serves less and refuses more).
  // (A quarter, not a half: CI once saw this process itself starved, sending about half the
  // offered rate, so that the gateway served 659 and refused 289. A gateway that only queues
  // refuses none.)
  expect(r.shed.length).toBeGreaterThan(r.ok.length / 4);
  // The excess was refused on arrival, not at the deadline, and answered within 100 ms.
  const onArrival = shed.predicted_wait! + shed.queue_full!;
  expect(onArrival).toBeGreaterThan(5 * shed.queue_timeout!);
  expect(served503['0.1']).toBeGreaterThanOrEqual(0.9 * onArrival);
  // No admitted operation waited past the queue bound, and each was answered within it plus its own time.
  expect(waited['1']).toBe(waited['+Inf']);
  // (A stall of the host, seen here as a /health answer past 500 ms, adds its length to that.)
  const stallSeconds = Math.max(...r.health) / 1000;
  const bound = [2.5, 5, 10].find((b) => b >= 2.5 + (stallSeconds > 0.5 ? stallSeconds : 0)) ?? '+Inf';
  expect(served200[String(bound)]).toBe(served200['+Inf']);
  // Seen from outside: a refusal takes about what /health takes, and /health less than an operation.
  expect(percentile(r.shed, 0.5)).toBeLessThan(2 * percentile(r.health, 0.5) + 25);
  expect(percentile(r.health, 0.5)).toBeLessThan(percentile(r.ok, 0.5));
  // The tails too, but a stall of the host lands on whichever probes it catches: CI saw /health's
  // p90 at 1,248 ms against the operations' 1,134 (stalls of 1.5 s, health p50 16 ms). So a
  // stall seen on /health (past 500 ms) is allowed on top, as for the bound above.
  expect(percentile(r.health, 0.9)).toBeLessThan(percentile(r.ok, 0.9) + (stallSeconds > 0.5 ? stallSeconds * 1000 : 0));
  // Nothing was left waiting when the load ended, and the next request was served within the bound.
  const noise = 2 * Math.max(...r.health);
  expect(r.drainedMs).toBeLessThan(QUEUE_TIMEOUT_MS + 3 * serviceMs + noise);
  expect(r.firstOkAfterMs).toBeLessThan(QUEUE_TIMEOUT_MS + 3 * serviceMs + noise);
}

/**
 * One overload run against a gateway whose operations take `serviceMs` when it is not loaded:
 * `rate` operations a second offered, far more than it serves, then the checks above, then, a
 * second after the load ended, `burst` operations at once (what it serves at once) all answered.
 */
async function overloadRun(label: string, gateway: Gateway, serviceMs: number, burst: number, rate: number) {
  expect(await (await post(gateway.base)).json()).toEqual({ data: { work: 'done' } }); // (and a service time to predict with)
  const result = await offer(gateway.base, { rate }, LOAD_SECONDS);
  console.log(`${label}: ${summary(result)}; rss ${peakRssMiB(gateway.pid).toFixed(0)} MiB`);
  await expectShedFastAndServedWithinBound(gateway.base, result, serviceMs);
  // It kept serving through the overload (however little CPU the shared machine left it).
  expect(result.ok.length).toBeGreaterThanOrEqual(2 * LOAD_SECONDS);
  await sleep(Math.max(0, 1000 - result.firstOkAfterMs));
  const statuses = await Promise.all(Array.from({ length: burst }, () => post(gateway.base).then((r) => r.status)));
  expect(statuses).toEqual(Array(burst).fill(200));
  expect(peakRssMiB(gateway.pid)).toBeLessThan(300);
}

describe('overload: a slow subgraph with little capacity (200 ms a fetch, 4 at once: 20 operations/s)', () => {
  let gateway: Gateway;
  beforeAll(async () => {
    gateway = await startGateway({ kind: 'slow', ms: 200, capacity: 4, env: ENV });
  });
  afterAll(() => gateway?.stop());

  it('refuses the excess within milliseconds, serves the rest within the bound, and serves fully once the load ends', async () => {
    await overloadRun('slow subgraph', gateway, 200, 4, 100);
  });
});

describe('overload: the gateway process CPU-bound (each fetch 5 ms of its CPU)', () => {
  let gateway: Gateway;
  beforeAll(async () => {
    gateway = await startGateway({ kind: 'cpu', ms: 5, env: ENV });
  });
  afterAll(() => gateway?.stop());

  it('refuses the excess within milliseconds, serves the rest within the bound, and serves fully once the load ends', async () => {
    await overloadRun('cpu-bound gateway', gateway, 5, 4, 600);
  });

  // Callers that resend at once keep a queue of about 80 x 5 ms / 2 running standing whatever is
  // refused: past a tenth of the queue timeout, the standing-queue rule refuses them again and
  // again (the next describe raises GATEWAY_QUEUE_TARGET_MS for them).
  it('refuses callers that resend at once again and again at the default standing target', async () => {
    await sleep(1000); // (calm after the run above)
    const result = await offer(gateway.base, { clients: 80 }, LOAD_SECONDS);
    console.log(`cpu-bound gateway, 80 callers resending at once: ${summary(result)}`);
    expect(result.other).toEqual([]);
    expect(result.shed.length).toBeGreaterThan(result.ok.length);
    // All along the run, not in bursts (the next describe's test counts the same way).
    expect(refusingSpells(result).refusing).toBeGreaterThan(refusingSpells(result).spells / 2);
  });
});

// The queue timeout at 10 s here, operations of 30 ms: the 80 callers' predicted wait (80 x 30
// ms / 2 running, a few times that when other tests hold the CPUs) stays within the timeout, so a
// refusal would be the standing rule's, and it is past the 1 s the default target would be.
const LONG_QUEUE_TIMEOUT_MS = 10_000;

describe('overload: callers that resend at once, GATEWAY_QUEUE_TARGET_MS at the queue timeout (the standing-queue rule off)', () => {
  let gateway: Gateway;
  beforeAll(async () => {
    const timeout = String(LONG_QUEUE_TIMEOUT_MS);
    gateway = await startGateway({ kind: 'cpu', ms: 30, env: { ...ENV, GATEWAY_QUEUE_TIMEOUT_MS: timeout, GATEWAY_QUEUE_TARGET_MS: timeout } });
  });
  afterAll(() => gateway?.stop());

  it('serves them within the queue bound instead of refusing them', async () => {
    // Warmed up first: the service time it predicts with is then a compiled operation's, not a
    // cold one's (which predicts waits past the timeout for the first few hundred milliseconds).
    for (let i = 0; i < 100; i++) expect(await (await post(gateway.base)).json()).toEqual({ data: { work: 'done' } });
    const result = await offer(gateway.base, { clients: 80 }, LOAD_SECONDS);
    console.log(`cpu-bound gateway, target at the timeout, 80 callers resending at once: ${summary(result)}`);
    expect(result.other).toEqual([]);
    expect(result.ok.length).toBeGreaterThanOrEqual(2 * LOAD_SECONDS);
    // Refusals, if any, come in short bursts, not all along as at the default target (the test
    // above: about 20 times an operation served, in almost every 100 ms of the run). A stall of
    // the host makes the oldest running operation's age the service time it predicts with, which
    // can refuse for a few hundred milliseconds (and, callers resending at once, many times): so
    // what is counted is the share of the run's 100 ms spells with a refusal in them.
    const { refusing, spells } = refusingSpells(result);
    console.log(`  ${refusing} of ${spells} spells of 100 ms had a refusal (${result.shed.length} refused, ${result.ok.length} served)`);
    expect(refusing).toBeLessThanOrEqual(spells / 3);
    const waited = await histogram(gateway.base, 'gateway_admission_wait_seconds');
    expect(waited['+Inf']).toBeGreaterThanOrEqual(result.ok.length);
  });
});
