/**
 * `npx tsx test/bench/variable-bomb.ts [--depth 400000] [--count 32] [--subgraph-depth 5000]
 * [--flood 8] [--seconds 10]`: what a deeply nested `variables` body (issue 15, item 3) costs the
 * gateway and a subgraph. The whole supergraph runs in this process against a fresh database.
 *  1. Sequential: a child process sends `count` requests one at a time; the CPU this process
 *     spent meanwhile (`process.cpuUsage()`, also net of what it burns idle), per request, next
 *     to the same count of a normal query, and this process's peak RSS.
 *  2. Flood (the tester's report): `flood` child processes send the anonymous bomb to the
 *     gateway back to back for `seconds`, while another sends normal queries with a token one at
 *     a time: their latency (p50, p99) against the same without the flood, and the peak RSS.
 * Never part of `npm test`; the machine is shared and noisy: compare within one run.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { startSupergraph } from '../support/stack.ts';

const { values } = parseArgs({
  options: {
    depth: { type: 'string', default: '400000' },
    count: { type: 'string', default: '32' },
    'subgraph-depth': { type: 'string', default: '5000' },
    flood: { type: 'string', default: '8' },
    seconds: { type: 'string', default: '10' },
  },
});
const depth = Number(values.depth);
const count = Number(values.count);
const subgraphDepth = Number(values['subgraph-depth']);

const QUERY = 'query($t:[String!]){ leads(first:1, filter:{tags:$t}){ edges{ node{ id } } } }';
const bomb = (levels: number) => `{"query":${JSON.stringify(QUERY)},"variables":{"t":${'['.repeat(levels)}${']'.repeat(levels)}}}`;
const normal = JSON.stringify({ query: QUERY, variables: { t: ['vip'] } });

const stack = await startSupergraph();
const token = await stack.token('owner@acme.example');
const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };

/**
 * Sends `count` requests one after another from a child process (its CPU is not ours), and
 * reports the CPU this process (the gateway and every subgraph) spent meanwhile, per request.
 */
const CLIENT = `
const [url, count, auth] = process.argv.slice(1);
const body = require('node:fs').readFileSync(0, 'utf8');
const headers = { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) };
(async () => {
  const statuses = {};
  for (let i = 0; i < Number(count); i++) {
    const response = await fetch(url, { method: 'POST', headers, body });
    await response.arrayBuffer();
    statuses[response.status] = (statuses[response.status] ?? 0) + 1;
  }
  process.stdout.write(JSON.stringify(statuses));
})();
`;

async function measure(label: string, url: string, body: string, auth: boolean) {
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const before = process.cpuUsage();
  const started = performance.now();
  const child = spawn(process.execPath, ['-e', CLIENT, url, String(count), auth ? headers.authorization : ''], { stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdin.end(body);
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  await once(child, 'exit');
  const cpu = process.cpuUsage(before);
  const wall = performance.now() - started;
  clearInterval(sampler);
  const ms = (cpu.user + cpu.system) / 1000 / count;
  // Less what this process burns anyway while idle (timers, pools, the CMS scheduler) for as long.
  const net = ms - (idleCpuPerMs * wall) / count;
  console.log(
    `${label.padEnd(40)} ${(body.length / 1024).toFixed(0).padStart(4)} KiB  server cpu ${ms.toFixed(2).padStart(7)} ms/request (${net.toFixed(2).padStart(7)} net of idle)  wall ${(wall / count).toFixed(1).padStart(6)} ms/request  status ${out}  peak rss ${(peak / 2 ** 20).toFixed(0)} MiB`,
  );
  return ms;
}

/** CPU ms this process spends per ms of wall time while no request runs. */
async function idleRate(ms = 3_000) {
  const before = process.cpuUsage();
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const cpu = process.cpuUsage(before);
  return (cpu.user + cpu.system) / 1000 / (performance.now() - started);
}
let idleCpuPerMs = 0;

/**
 * A child process that keeps `concurrency` requests of `body` to `url` in flight until
 * `deadline`; prints their latencies (ms) and statuses as JSON.
 */
const LOOP = `
const [url, deadline, auth, concurrency] = process.argv.slice(1);
const body = require('node:fs').readFileSync(0, 'utf8');
const headers = { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) };
const ms = []; const statuses = {};
const count = (key) => (statuses[key] = (statuses[key] ?? 0) + 1);
async function one() {
  while (Date.now() < Number(deadline)) {
    const t = performance.now();
    try {
      const response = await fetch(url, { method: 'POST', headers, body });
      await response.arrayBuffer();
      count(response.status);
    } catch (e) { count(e.cause?.code ?? e.name); }
    ms.push(performance.now() - t);
  }
}
Promise.all(Array.from({ length: Number(concurrency) }, one)).then(() => process.stdout.write(JSON.stringify({ ms, statuses })));
`;

function loop(url: string, body: string, deadline: number, auth: string, concurrency = 1) {
  const child = spawn(process.execPath, ['-e', LOOP, url, String(deadline), auth, String(concurrency)], { stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdin.end(body);
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  // A child that died (out of memory, say) reports nothing: count it as such.
  return once(child, 'exit').then(([code]) => (out ? (JSON.parse(out) as { ms: number[]; statuses: Record<string, number> }) : { ms: [], statuses: { [`exit ${code}`]: 1 } }));
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};

/** Normal queries one at a time for `seconds`, with `senders` bombs in flight alongside (one client process). */
async function flood(senders: number, seconds: number) {
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const deadline = Date.now() + seconds * 1000;
  const bombs = senders ? loop(stack.graphql, bomb(depth), deadline, '', senders) : Promise.resolve({ ms: [], statuses: {} });
  const normalRun = await loop(stack.graphql, normal, deadline, headers.authorization);
  const bombStatuses = (await bombs).statuses;
  clearInterval(sampler);
  console.log(
    `${senders} bombs in flight for ${seconds} s: normal queries p50 ${percentile(normalRun.ms, 50).toFixed(1)} ms, p99 ${percentile(normalRun.ms, 99).toFixed(1)} ms (${normalRun.ms.length} done, ${JSON.stringify(normalRun.statuses)}); ` +
      `bombs answered ${JSON.stringify(bombStatuses)}; peak rss ${(peak / 2 ** 20).toFixed(0)} MiB`,
  );
}

try {
  const crm = stack.urls.crm!;
  // warm up both paths
  idleCpuPerMs = await idleRate();
  console.log(`idle: ${(idleCpuPerMs * 1000).toFixed(1)} ms of CPU per second`);
  await measure('warm-up (normal, gateway)', stack.graphql, normal, true);
  await measure('normal query, gateway', stack.graphql, normal, true);
  await measure(`bomb depth ${depth}, gateway, anonymous`, stack.graphql, bomb(depth), false);
  await measure(`bomb depth ${depth}, gateway, with token`, stack.graphql, bomb(depth), true);
  await measure('normal query, crm directly', crm, normal, true);
  await measure(`bomb depth ${subgraphDepth}, crm directly`, crm, bomb(subgraphDepth), true);
  await measure(`bomb depth ${depth}, crm directly`, crm, bomb(depth), true);
  const floodSenders = Number(values.flood);
  if (floodSenders > 0) {
    await flood(0, Number(values.seconds));
    await flood(floodSenders, Number(values.seconds));
  }
} finally {
  await stack.close();
}
