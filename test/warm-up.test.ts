import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { Supergraph } from '@apollo/federation-internals';
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { dummyVariables, warmUpOperations } from '../gateway/warm-up.ts';
import { ROUTES } from '../gateway/rest/routes.ts';
import { loadSubgraphs } from '../subgraphs/kit/registry.ts';
import { representativeQuery } from '../subgraphs/kit/warm-up.ts';
import { freePorts } from './support/ports.ts';
import { ADMIN_URL, postgresReachable } from './support/services.ts';

// Warm-up (issue 15.5 item 4): what a process builds lazily on its first request is built before
// it listens, so a subgraph's /health and the gateway's /ready answer only after it. The
// operations it runs are valid; the entry points run it before they listen.

// The CommonJS graphql that @apollo/subgraph and @apollo/federation-internals build schemas with
// (vitest would hand us the ESM copy, and graphql refuses to mix the two).
const { Kind, parse, validate } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

describe('the warm-up operations', () => {
  it("each subgraph's representative query is valid against its own schema and asks for every root field it can", async () => {
    for (const subgraph of await loadSubgraphs()) {
      const query = representativeQuery(subgraph.typeDefs);
      const schema = buildSubgraphSchema({ typeDefs: subgraph.typeDefs });
      expect(validate(schema, parse(query)).map((e) => e.message), subgraph.name).toEqual([]);
      expect(query, subgraph.name).toMatch(/^query WarmUp \{ __typename \w/);
    }
  });

  it("the gateway's are queries only (never a mutation: no login attempt at start), valid against the supergraph, and cover the REST shim's queries", () => {
    const supergraph = Supergraph.build(readFileSync('schema/supergraph.graphql', 'utf8')).apiSchema().toGraphQLJSSchema();
    const operations = warmUpOperations();
    expect(operations[0]).toEqual({ query: '{ __typename }', variables: {} });
    for (const { query } of operations) {
      const document = parse(query);
      const kinds = document.definitions.flatMap((d) => (d.kind === Kind.OPERATION_DEFINITION ? [d.operation] : []));
      expect(kinds).toEqual(['query']);
      expect(validate(supergraph, document).map((e) => e.message), query.slice(0, 60)).toEqual([]);
    }
    const restQueries = new Set(ROUTES.filter((r) => r.operation && /^\s*query\b/.test(r.operation)).map((r) => r.operation));
    // Every one whose required variables are scalars the warm-up can make up; today all but the
    // chart data query of Superset's API (its `ChartInput!` is planned on first use).
    const warmable = [...restQueries].filter((query) => dummyVariables(query!) !== null);
    expect(new Set(operations.slice(1).map((o) => o.query))).toEqual(new Set(warmable));
    const left = [...restQueries].filter((query) => dummyVariables(query!) === null);
    expect(left.map((query) => /query (\w+)/.exec(query!)?.[1])).toEqual(['RestSupersetChartDataQuery']);
  });
});

// --- Through the entry points -------------------------------------------------------------------

const realPostgres = await postgresReachable();
const dataDir = mkdtempSync(join(tmpdir(), 'bizosaas-warm-up-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

/** Spawns an entry point under tsx; `lines` collects its stdout and stderr lines. */
function start(entry: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', ...entry], {
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'development', LOG_LEVEL: 'info', HOST: '127.0.0.1', DATA_DIR: dataDir, DEMO_DATA: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: string[] = [];
  let rest = '';
  const onData = (chunk: Buffer) => {
    const text = rest + chunk.toString();
    const parts = text.split('\n');
    rest = parts.pop()!;
    lines.push(...parts);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  /** When a line matching `pattern` was first seen (ms epoch; polled every 50 ms). */
  const waitFor = async (pattern: RegExp) => {
    for (let i = 0; i < 1200; i++) {
      if (lines.some((line) => pattern.test(line))) return Date.now();
      if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}:\n${lines.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no ${pattern} in:\n${lines.join('\n')}`);
  };
  return { child, lines, waitFor };
}
/** The first JSON log line of `process` that `match`es (waiting a little for pino's buffered writes). */
async function logLine(child: { lines: string[] }, match: (entry: Record<string, any>) => boolean): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const line = child.lines.find((l) => match(json(l)));
    if (line) return line;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no such log line in:\n${child.lines.join('\n')}`);
}
const json = (line: string) => {
  try {
    return JSON.parse(line) as Record<string, any>;
  } catch {
    return {};
  }
};

describe('the entry points', () => {
  it('a subgraph and the gateway warm up before they listen: a representative operation through each pipeline, then /health and the first request', async () => {
    const [saleorPort, gatewayPort] = await freePorts(2);
    // The saleor stand-in reads no table: any database does (PostgreSQL's own when it is here, else embedded PGlite).
    const database: Record<string, string> = realPostgres ? { DATABASE_URL: ADMIN_URL } : {};
    const saleor = start(['subgraphs/kit/start-subgraph.ts', 'saleor'], { SALEOR_PORT: String(saleorPort), ...database });
    // (pino writes its lines asynchronously, so they can follow the "listening" line: their time says when.)
    const listening = await saleor.waitFor(/saleor subgraph listening on/);
    const warmed = json(await logLine(saleor, (entry) => entry.msg === 'warmed up'));
    expect(warmed.time).toBeLessThanOrEqual(listening);
    expect(Object.keys(warmed.steps)).toEqual(['database', 'tokens', 'graphql']);
    // Its operation went through the whole pipeline (the subgraph's own request log).
    const operation = json(await logLine(saleor, (entry) => entry.msg === 'graphql' && entry.requestId === 'warm-up'));
    expect(operation.time).toBeLessThanOrEqual(warmed.time);
    expect((await fetch(`http://127.0.0.1:${saleorPort}/health`)).status).toBe(200);

    const gateway = start(['gateway/index.ts'], {
      GATEWAY_PORT: String(gatewayPort),
      SALEOR_URL: `http://127.0.0.1:${saleorPort}/graphql`,
      APOLLO_TELEMETRY_DISABLED: 'true',
    });
    const ready = await gateway.waitFor(/gateway ready at/);
    const gatewayWarmed = json(await logLine(gateway, (entry) => entry.msg === 'warmed up'));
    expect(gatewayWarmed.time).toBeLessThanOrEqual(ready);
    expect(gatewayWarmed.operations).toBeGreaterThan(1);

    const started = performance.now();
    const response = await fetch(`http://127.0.0.1:${gatewayPort}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ products(first: 2, channel: "acme-channel") { edges { node { name } } } }' }),
    });
    const body = (await response.json()) as { data?: { products: { edges: unknown[] } } };
    expect(body.data!.products.edges).toHaveLength(2);
    console.log(`[warm-up] the gateway's first request after it said ready: ${Math.round(performance.now() - started)} ms`);
  }, 180_000);
});
