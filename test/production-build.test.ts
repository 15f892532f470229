import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRODUCTION_ENTRY, productionNodeFlags } from '../gateway/node-flags.ts';
import { startOtlpReceiver } from './support/otlp-receiver.ts';
import { freePorts } from './support/ports.ts';
import { BUILD_SCRIPT, productionBuild } from './support/production-build.ts';

// The processes as production starts them: the production build (`npm run build`) run by plain
// node with the production flags, no TypeScript loader. Behaviour only; nothing is timed.

const build = productionBuild();
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const pid of workerPids()) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  build.remove();
});

let output = '';
function start(args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'warn', HOST: '127.0.0.1', REDIS_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  children.push(child);
  return child;
}
const gatewayArgs = () => [...productionNodeFlags(), join(build.dir, PRODUCTION_ENTRY.replace(/^build\//, ''))];

const waitFor = async (child: ChildProcess, pattern: RegExp, from = 0): Promise<RegExpMatchArray> => {
  for (let i = 0; i < 1800; i++) { // 90 s: processes warm up before they listen, and the machine may be busy
    const match = output.slice(from).match(pattern);
    if (match) return match;
    if (child.exitCode !== null) throw new Error(`process exited:\n${output}`);
    await sleep(50);
  }
  throw new Error(`no ${pattern} in:\n${output}`);
};
const workerPids = () => [...output.matchAll(/gateway worker (\d+) listening/g)].map((m) => Number(m[1]));
const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm run build', () => {
  it('builds only when build/ is missing or older than the sources: start:gateway and start:subgraph start at once when it is up to date', () => {
    const { scripts } = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
    expect(scripts.build).toBe(BUILD_SCRIPT);
    expect(scripts['prestart:gateway']).toBe('npm run build --silent');
    expect(scripts['prestart:subgraph']).toBe('npm run build --silent');
    // The build above is up to date: building again compiles nothing and rewrites no file.
    const output = join(build.dir, 'gateway/index.js');
    const before = statSync(output).mtimeMs;
    expect(build.build()).toMatch(/is up to date/);
    expect(statSync(output).mtimeMs).toBe(before);
  });
});

describe('the production build', () => {
  let saleorPort: number;
  beforeAll(async () => {
    [saleorPort] = await freePorts(1);
    const saleor = start([join(build.dir, 'subgraphs/kit/start-subgraph.js'), 'saleor'], { SALEOR_PORT: String(saleorPort) });
    await waitFor(saleor, /saleor subgraph listening/);
  }, 180_000);

  it('runs a subgraph (found by the registry in build/) and the gateway in front of it', async () => {
    const [port] = await freePorts(1);
    const gateway = start(gatewayArgs(), { GATEWAY_PORT: String(port), SALEOR_URL: `http://127.0.0.1:${saleorPort}/graphql` });
    await waitFor(gateway, new RegExp(`gateway ready at http://127\\.0\\.0\\.1:${port}/graphql`));
    const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ products(first: 2, channel: "acme-channel") { edges { node { name channel } } } }' }),
    });
    const body = (await response.json()) as { data?: { products: { edges: { node: { name: string; channel: string } }[] } }; errors?: unknown };
    expect(body.errors).toBeUndefined();
    expect(body.data!.products.edges).toHaveLength(2);
    expect(body.data!.products.edges.every((edge) => edge.node.channel === 'acme-channel' && edge.node.name)).toBe(true);
    gateway.kill('SIGTERM');
  }, 180_000);

  it('traces from build/ too: with OTEL_EXPORTER_OTLP_ENDPOINT the gateway and the subgraph export one trace, the subgraph span under the fetch', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const [port, tracedSaleorPort] = await freePorts(2);
      const tracing = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '100' };
      const saleor = start([join(build.dir, 'subgraphs/kit/start-subgraph.js'), 'saleor'], { SALEOR_PORT: String(tracedSaleorPort), ...tracing });
      await waitFor(saleor, new RegExp(`saleor subgraph listening on http://127\\.0\\.0\\.1:${tracedSaleorPort}`));
      const gateway = start(gatewayArgs(), { GATEWAY_PORT: String(port), SALEOR_URL: `http://127.0.0.1:${tracedSaleorPort}/graphql`, ...tracing });
      await waitFor(gateway, new RegExp(`gateway ready at http://127\\.0\\.0\\.1:${port}/graphql`));
      const traceId = 'ef'.repeat(16);
      const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${'01'.repeat(8)}-01` },
        body: JSON.stringify({ query: 'query BuiltProducts { products(first: 1, channel: "acme-channel") { edges { node { name } } } }' }),
      });
      expect(response.status).toBe(200);
      const ofTrace = () => receiver.spans.filter((s) => s.traceId === traceId);
      for (let i = 0; i < 200 && !(ofTrace().some((s) => s.service === 'bizosaas-gateway' && s.name === 'POST /graphql') && ofTrace().some((s) => s.service === 'bizosaas-saleor')); i++) await sleep(50);
      const spans = ofTrace();
      const root = spans.find((s) => s.service === 'bizosaas-gateway' && s.name === 'POST /graphql');
      expect(root?.attributes['graphql.operation.name']).toBe('BuiltProducts');
      const served = spans.find((s) => s.service === 'bizosaas-saleor' && s.name === 'POST /graphql');
      expect(spans.find((s) => s.spanId === served?.parentSpanId)).toMatchObject({ service: 'bizosaas-gateway', name: 'gateway.fetch', attributes: { service: 'saleor' } });
      gateway.kill('SIGTERM');
      saleor.kill('SIGTERM');
    } finally {
      receiver.server.close();
    }
  }, 180_000);

  // GATEWAY_WORKERS: two cluster workers on one port.
  it('forks the gateway workers on one port, restarts one that dies, and drains them all on SIGTERM', async () => {
    const [port] = await freePorts(1);
    const from = output.length;
    const child = start(gatewayArgs(), { GATEWAY_PORT: String(port), GATEWAY_WORKERS: '2' });

    await waitFor(child, /gateway ready at http:\/\/127\.0\.0\.1:\d+\/graphql \(2 workers\)/, from);
    const [first, second] = workerPids();
    expect(first).not.toBe(second);
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);

    const mark = output.length;
    process.kill(first!, 'SIGKILL');
    await waitFor(child, new RegExp(`gateway worker ${first} exited`), mark);
    await waitFor(child, /gateway worker \d+ listening/, mark);
    const replacement = workerPids().at(-1)!;
    expect(replacement).not.toBe(first);
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);

    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(isAlive(second!)).toBe(false);
    expect(isAlive(replacement)).toBe(false);
  }, 180_000);
});
