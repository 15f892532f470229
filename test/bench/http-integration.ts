/**
 * Which HTTP integration for Apollo Server: startStandaloneServer (node:http) or Fastify 5 with
 * @as-integrations/fastify? Measured on a trivial query, with and without a gateway hop, plus our
 * full gateway (limits, JWT check, rate limit, access log, metrics) to see what those cost.
 *
 *   npx tsx test/bench/http-integration.ts [--seconds 5] [--rounds 3] [--connections 50]
 *
 * Each server runs in its own child process pinned to CPU 1 (taskset, when present); autocannon
 * and the subgraph share CPU 0. Targets are interleaved within each round; the median RPS of the
 * rounds is reported. Every response is checked (non-2xx or a body without the expected data
 * counts as an error).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const SELF = fileURLToPath(import.meta.url);
const require = createRequire(import.meta.url);
const TRIVIAL = JSON.stringify({ query: '{ hello }' });
const VIA_GATEWAY = JSON.stringify({ query: '{ echo }' });

type Variant = 'standalone' | 'fastify' | 'standalone-gateway' | 'fastify-gateway' | 'our-gateway';
const VARIANTS: Variant[] = ['standalone', 'fastify', 'standalone-gateway', 'fastify-gateway', 'our-gateway'];

// ---------------------------------------------------------------- child: one server per process
async function serve(variant: Variant, port: number, subgraphUrl: string) {
  const { ApolloServer } = await import('@apollo/server');
  const { startStandaloneServer } = await import('@apollo/server/standalone');
  const { ApolloServerPluginLandingPageDisabled } = await import('@apollo/server/plugin/disabled');
  const { fastifyApolloHandler } = await import('@as-integrations/fastify');
  const Fastify = (await import('fastify')).default;
  process.env.APOLLO_TELEMETRY_DISABLED = 'true';

  if (variant === 'our-gateway') {
    const { composeSdl } = await import('../../gateway/compose.ts');
    const { createGateway } = await import('../../gateway/server.ts');
    const { parseGatewayConfig: parseConfig } = await import('../../gateway/config.ts');
    const { SLOW_SDL } = await import('../support/gateway-fakes.ts');
    // As deployed: info logs (one line per request) and rate limits on; BENCH_REDIS_URL for real Redis.
    const config = parseConfig({
      NODE_ENV: 'production',
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
      REDIS_URL: process.env.BENCH_REDIS_URL,
      RATE_LIMIT_PER_MINUTE_IP: '100000000',
    });
    const sdl = composeSdl([{ name: 'echo', url: subgraphUrl, sdl: SLOW_SDL.replace('slow', 'echo') }]).supergraphSdl!;
    const gateway = await createGateway({ config, supergraphSdl: sdl, subgraphUrls: { echo: subgraphUrl } });
    await gateway.listen(port, '127.0.0.1');
    return;
  }

  let apollo;
  if (variant.endsWith('-gateway')) {
    const { ApolloGateway, RemoteGraphQLDataSource } = await import('@apollo/gateway');
    const { composeSdl } = await import('../../gateway/compose.ts');
    const { SLOW_SDL } = await import('../support/gateway-fakes.ts');
    const sdl = composeSdl([{ name: 'echo', url: subgraphUrl, sdl: SLOW_SDL.replace('slow', 'echo') }]).supergraphSdl!;
    const gateway = new ApolloGateway({ supergraphSdl: sdl, buildService: ({ url }) => new RemoteGraphQLDataSource({ url }) });
    apollo = new ApolloServer({ gateway, plugins: [ApolloServerPluginLandingPageDisabled()] });
  } else {
    apollo = new ApolloServer({
      typeDefs: 'type Query { hello: String }',
      resolvers: { Query: { hello: () => 'world' } },
      plugins: [ApolloServerPluginLandingPageDisabled()],
    });
  }
  if (variant.startsWith('standalone')) {
    await startStandaloneServer(apollo, { listen: { port, host: '127.0.0.1' } });
    return;
  }
  await apollo.start();
  const app = Fastify({ logger: false });
  app.route({ method: ['GET', 'POST', 'OPTIONS'], url: '/graphql', handler: fastifyApolloHandler(apollo) });
  // startStandaloneServer answers on every path; fastify only on /graphql, which is what we hit.
  await app.listen({ port, host: '127.0.0.1' });
}

async function serveSubgraph() {
  const { startFakeSubgraph, SLOW_SDL } = await import('../support/gateway-fakes.ts');
  const fake = await startFakeSubgraph('echo', SLOW_SDL.replace('slow', 'echo'), { Query: { echo: () => 'hello' } });
  process.stdout.write(`URL ${fake.url}\n`);
}

// ---------------------------------------------------------------- parent: load and report
function pinned(cpu: number, args: string[]): [string, string[]] {
  return existsSync('/usr/bin/taskset') ? ['taskset', ['-c', String(cpu), ...args]] : [args[0]!, args.slice(1)];
}

function start(cpu: number, extra: string[]): Promise<{ child: ChildProcess; line: string }> {
  const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
  const [cmd, args] = pinned(cpu, [tsx, SELF, ...extra]);
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_ENV: 'production' } });
  return new Promise((resolve, reject) => {
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      const line = buffer.split('\n').find((l) => l.startsWith('READY') || l.startsWith('URL'));
      if (!line) return;
      // From here on the child's stdout (the gateway's access log) is drained and dropped.
      child.stdout!.off('data', onData).on('data', () => undefined);
      resolve({ child, line });
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${extra.join(' ')} exited with ${code}`)));
  });
}

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  errors: number;
  non2xx: number;
  timeouts: number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;

async function load(url: string, body: string, expect: string, seconds: number, connections: number) {
  const autocannon = require('autocannon') as Autocannon;
  let mismatches = 0;
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        onResponse(status: number, responseBody: string) {
          if (status !== 200 || !responseBody.includes(expect)) mismatches++;
        },
      },
    ],
  });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.non2xx + result.timeouts + mismatches };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  const { values } = parseArgs({
    options: {
      serve: { type: 'string' },
      subgraph: { type: 'boolean' },
      port: { type: 'string', default: '0' },
      'subgraph-url': { type: 'string', default: '' },
      seconds: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '3' },
      connections: { type: 'string', default: '50' },
      only: { type: 'string' },
    },
  });
  if (values.subgraph) return serveSubgraph();
  if (values.serve) {
    await serve(values.serve as Variant, Number(values.port), values['subgraph-url']!);
    process.stdout.write('READY\n');
    return;
  }

  const seconds = Number(values.seconds);
  const rounds = Number(values.rounds);
  const connections = Number(values.connections);
  const variants = values.only ? (values.only.split(',') as Variant[]) : VARIANTS;
  const subgraph = await start(0, ['--subgraph']);
  const subgraphUrl = subgraph.line.slice(4).trim();
  const servers = new Map<Variant, { child: ChildProcess; url: string }>();
  let port = 19_100;
  for (const variant of variants) {
    port++;
    const { child } = await start(1, ['--serve', variant, '--port', String(port), '--subgraph-url', subgraphUrl]);
    servers.set(variant, { child, url: `http://127.0.0.1:${port}/graphql` });
  }
  const results = new Map<Variant, { rps: number[]; p50: number[]; p99: number[]; errors: number }>();
  try {
    for (const variant of variants) {
      const { url } = servers.get(variant)!;
      const gatewayed = variant.endsWith('gateway');
      await load(url, gatewayed ? VIA_GATEWAY : TRIVIAL, gatewayed ? '"echo":"hello"' : '"hello":"world"', 2, connections); // warm-up
      results.set(variant, { rps: [], p50: [], p99: [], errors: 0 });
    }
    for (let round = 0; round < rounds; round++) {
      for (const variant of variants) {
        const { url } = servers.get(variant)!;
        const gatewayed = variant.endsWith('gateway');
        const r = await load(url, gatewayed ? VIA_GATEWAY : TRIVIAL, gatewayed ? '"echo":"hello"' : '"hello":"world"', seconds, connections);
        const acc = results.get(variant)!;
        acc.rps.push(r.rps);
        acc.p50.push(r.p50);
        acc.p99.push(r.p99);
        acc.errors += r.errors;
        process.stderr.write(`round ${round + 1} ${variant}: ${Math.round(r.rps)} rps\n`);
      }
    }
  } finally {
    for (const { child } of servers.values()) child.kill('SIGTERM');
    subgraph.child.kill('SIGTERM');
  }
  console.log(`\n${connections} connections, ${seconds} s x ${rounds} rounds (median), server pinned to CPU 1\n`);
  console.log('| variant | RPS | p50 ms | p99 ms | errors |\n|---|---|---|---|---|');
  for (const [variant, r] of results) {
    console.log(`| ${variant} | ${Math.round(median(r.rps))} | ${median(r.p50)} | ${median(r.p99)} | ${r.errors} |`);
  }
  process.exit(0);
}

await main();
