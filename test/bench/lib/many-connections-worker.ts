/**
 * Scenario D's load generator: many open keep-alive connections at a fixed total rate lower than
 * the connection count, which autocannon cannot do (its rate is whole requests per second per
 * connection, and `overallRate` below the connection count closes connections).
 *
 * One node:http Agent with `maxSockets = connections` and FIFO socket reuse: all connections are
 * opened at the start (one request each, not counted), then requests leave at evenly spaced
 * instants (`rate` per second over the whole run) on the least recently used socket, so every
 * connection stays open and carries a request every connections/rate seconds. Latency is
 * measured from each request's scheduled instant (a late send counts against the target).
 * Every response is checked by the given request type's checker (scenarios/b-supergraph.ts).
 * Under overload (a rate past what the gateway serves) the gateway's refusals, 503 OVERLOADED with
 * Retry-After, are counted (and timed) apart from the answers it served, and a request unanswered
 * `timeoutMs` (default 30 s) after it was sent is a timeout (the client gives up and closes its
 * connection, as a client with a timeout does).
 *
 *   node tmp/bench-build-<pid>/test/bench/lib/many-connections-worker.js JOB.json RESULT.json
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { classify } from '../scenarios/b-supergraph.ts';
import { percentile } from './load-worker.ts';

export interface ManyConnectionsJob {
  url: string;
  /** Sent in turn; `type` is the request type id the body must classify as. */
  requests: { type: string; method: 'GET' | 'POST'; path: string; headers: Record<string, string>; body?: string }[];
  connections: number;
  rate: number;
  warmupSeconds: number;
  seconds: number;
  /** A request unanswered after this long is a timeout (default 30 000). */
  timeoutMs?: number;
}

type Latencies = { count: number; p50: number; p99: number; max: number };

export interface ManyConnectionsResult {
  connections: number;
  rate: number;
  seconds: number;
  responses: number;
  rps: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  perType: Record<string, { responses: number; p99: number }>;
  errors: { total: number; connection: number; timeouts: number; non200: number; wrongBody: number };
  /** Answered 200 with the expected body, and refused with 503 OVERLOADED (part of `non200`). */
  served: Latencies;
  overloaded: Latencies;
  firstError: string | null;
  openSockets: { min: number; max: number };
  warmupErrors: number;
  openingSeconds: number;
  cpu: number;
}

const [jobFile, resultFile] = process.argv.slice(2);
const job = JSON.parse(readFileSync(jobFile!, 'utf8')) as ManyConnectionsJob;
const target = new URL(job.url);
const agent = new Agent({ keepAlive: true, maxSockets: job.connections, maxFreeSockets: job.connections, scheduling: 'fifo', keepAliveMsecs: 1_000 });

type Outcome = { ok: true } | { ok: false; kind: 'connection' | 'timeouts' | 'non200' | 'wrongBody'; detail: string; overloaded?: boolean };
function send(spec: ManyConnectionsJob['requests'][number]): Promise<Outcome> {
  return new Promise((settle) => {
    // The client timeout counts from the send, as a client's does: waiting for a free connection
    // in the agent included, not only a socket's silence.
    const deadline = setTimeout(() => req.destroy(new Error('timeout')), job.timeoutMs ?? 30_000);
    const resolve = (outcome: Outcome) => {
      clearTimeout(deadline);
      settle(outcome);
    };
    const req = request(
      { host: target.hostname, port: target.port, method: spec.method, path: spec.path, headers: spec.headers, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString();
          const overloaded = res.statusCode === 503 && res.headers['retry-after'] !== undefined && /OVERLOADED|overloaded/.test(body);
          if (res.statusCode !== 200) resolve({ ok: false, kind: 'non200', detail: `${res.statusCode} ${body.slice(0, 300)}`, overloaded });
          else if (classify(body) !== spec.type) resolve({ ok: false, kind: 'wrongBody', detail: `${spec.type}: ${body.slice(0, 300)}` });
          else resolve({ ok: true });
        });
        res.on('error', (e) => resolve({ ok: false, kind: e.message === 'timeout' ? 'timeouts' : 'connection', detail: e.message }));
      },
    );
    req.on('error', (e) => resolve({ ok: false, kind: e.message === 'timeout' ? 'timeouts' : 'connection', detail: e.message }));
    if (spec.body) req.end(spec.body);
    else req.end();
  });
}

const openSockets = () =>
  Object.values(agent.sockets).reduce((n, s) => n + (s?.length ?? 0), 0) + Object.values(agent.freeSockets).reduce((n, s) => n + (s?.length ?? 0), 0);

// 1. Open every connection: `connections` requests at once (not measured).
const opening = performance.now();
let warmupErrors = 0;
await Promise.all(Array.from({ length: job.connections }, (_, i) => send(job.requests[i % job.requests.length]!).then((o) => void (o.ok || warmupErrors++))));
const openingSeconds = (performance.now() - opening) / 1000;

// 2. Evenly spaced sends for warm-up + window; only the window counts.
const latencies: number[] = [];
const served: number[] = [];
const overloaded: number[] = [];
const perType: Record<string, number[]> = {};
const errors = { connection: 0, timeouts: 0, non200: 0, wrongBody: 0 };
let firstError: string | null = null;
const socketSamples: number[] = [];
const interval = 1000 / job.rate;
const start = performance.now();
const windowFrom = start + job.warmupSeconds * 1000;
const windowTo = windowFrom + job.seconds * 1000;
const total = Math.round(job.rate * (job.warmupSeconds + job.seconds));
let cpuBefore = process.cpuUsage();
const pending: Promise<void>[] = [];
const sampler = setInterval(() => {
  const now = performance.now();
  if (now >= windowFrom && now <= windowTo) socketSamples.push(openSockets());
}, 500);
let cpuMarked = false;
for (let i = 0; i < total; i++) {
  const scheduled = start + i * interval;
  const wait = scheduled - performance.now();
  if (wait > 1) await new Promise((r) => setTimeout(r, wait));
  if (!cpuMarked && scheduled >= windowFrom) {
    cpuMarked = true;
    cpuBefore = process.cpuUsage();
  }
  const spec = job.requests[i % job.requests.length]!;
  const counted = scheduled >= windowFrom && scheduled < windowTo;
  pending.push(
    send(spec).then((outcome) => {
      if (!counted) {
        if (!outcome.ok) warmupErrors++;
        return;
      }
      const latency = performance.now() - scheduled;
      latencies.push(latency);
      (perType[spec.type] ??= []).push(latency);
      if (outcome.ok) served.push(latency);
      else {
        errors[outcome.kind]++;
        if (outcome.overloaded) overloaded.push(latency);
        else firstError ??= outcome.detail;
      }
    }),
  );
}
const used = process.cpuUsage(cpuBefore);
const cpuWindow = (used.user + used.system) / 1e6 / job.seconds;
await Promise.all(pending);
clearInterval(sampler);
agent.destroy();

latencies.sort((a, b) => a - b);
const summary = (l: number[]): Latencies => {
  l.sort((a, b) => a - b);
  return { count: l.length, p50: percentile(l, 0.5), p99: percentile(l, 0.99), max: l.at(-1) ?? NaN };
};
const result: ManyConnectionsResult = {
  connections: job.connections,
  rate: job.rate,
  seconds: job.seconds,
  responses: latencies.length,
  rps: latencies.length / job.seconds,
  latencyMs: { p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95), p99: percentile(latencies, 0.99), max: latencies.at(-1) ?? NaN },
  perType: Object.fromEntries(
    Object.entries(perType).map(([type, l]) => {
      l.sort((a, b) => a - b);
      return [type, { responses: l.length, p99: percentile(l, 0.99) }];
    }),
  ),
  errors: { total: errors.connection + errors.timeouts + errors.non200 + errors.wrongBody, ...errors },
  served: summary(served),
  overloaded: summary(overloaded),
  firstError: firstError ?? (overloaded.length ? '503 OVERLOADED' : null),
  openSockets: { min: Math.min(...socketSamples), max: Math.max(...socketSamples) },
  warmupErrors,
  openingSeconds,
  cpu: cpuWindow,
};
writeFileSync(resultFile!, JSON.stringify(result));
process.exit(0);
