import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayConfig as Config } from '../gateway/config.ts';
import { reloadOnSighup } from '../gateway/hot-reload.ts';
import type { Gateway } from '../gateway/server.ts';
import { createTestBackends, type TestBackends } from './support/deps.ts';
import { composeFakes, CRM_SDL, startFakeGraph, startFakeSubgraph, type FakeSubgraph } from './support/gateway-fakes.ts';
import { postJson } from './support/graphql.ts';

/*
 * Supergraph hot reload (gateway/hot-reload.ts): the gateway starts on a supergraph composed
 * without the crm subgraph (a temporary copy given by SUPERGRAPH_FILE, never the repository's
 * file), and is given the full one while requests keep coming.
 */

let backends: TestBackends;
let graph: Awaited<ReturnType<typeof startFakeGraph>>;
let dir: string;
let withoutCrm: string;
let full: string;
const gateways: Gateway[] = [];
const closers: (() => Promise<void>)[] = [];

/** A logger whose lines the test reads. */
function capturingLog() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { log, lines };
}

async function startGateway(config: Partial<Config>, urls = graph.urls) {
  const { log, lines } = capturingLog();
  const { createGateway } = await import('../gateway/server.ts');
  // The file's gateways share one Redis prefix, and the reload case's clients send as fast as they
  // are answered: past the per-IP limit (1,200 a minute) the later cases were refused RATE_LIMITED
  // (CI on Node 24). Nothing here is about rate limits.
  const limits = { RATE_LIMIT_PER_MINUTE_IP: 1_000_000 };
  const gateway = await createGateway({ config: { ...backends.config, ...limits, ...config }, subgraphUrls: urls, verifyToken: backends.verifyToken, log });
  gateways.push(gateway);
  return { gateway, base: await gateway.listen(0, '127.0.0.1'), lines };
}

/** Replaces `file` as a deploy tool would: written aside, renamed over it. */
async function swap(file: string, content: string) {
  await writeFile(`${file}.next`, content);
  await rename(`${file}.next`, file);
}

const query = async (base: string, q: string) => {
  const response = await postJson(`${base}/graphql`, { query: q });
  return { status: response.status, body: (await response.json()) as { data?: Record<string, unknown>; errors?: { message: string }[] } };
};

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const reloads = async (base: string) => {
  const text = await (await fetch(`${base}/metrics`)).text();
  const count = (outcome: string) => Number(new RegExp(`^gateway_supergraph_reloads_total\\{outcome="${outcome}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return { applied: count('applied'), refused: count('refused') };
};

beforeAll(async () => {
  backends = await createTestBackends();
  graph = await startFakeGraph(300);
  dir = await mkdtemp(join(tmpdir(), 'supergraph-'));
  withoutCrm = await composeFakes(graph.all.filter((s) => s.name !== 'crm'));
  full = await composeFakes(graph.all);
});

afterAll(async () => {
  for (const gateway of gateways) await gateway.close();
  for (const close of closers) await close();
  await graph?.close();
  await backends?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('supergraph hot reload', () => {
  it('applies a changed supergraph file under load: no request fails, the new field answers within seconds; a broken file is refused, logged once and counted', async () => {
    const file = join(dir, 'watched.graphql');
    await writeFile(file, withoutCrm);
    const { gateway, base, lines } = await startGateway({ SUPERGRAPH_FILE: file, SUPERGRAPH_WATCH: true, SUPERGRAPH_WATCH_DEBOUNCE_MS: 50, SUPERGRAPH_POLL_MS: 500 });
    expect((await query(base, '{ contacts }')).status).toBe(400); // not in this supergraph yet

    // A steady stream: 6 clients, each a fast query and one that takes 300 ms (in flight during swaps).
    let running = true;
    const failures: string[] = [];
    let done = 0;
    let inFlight = 0;
    const client = async (i: number) => {
      while (running) {
        inFlight++;
        const { status, body } = await query(base, i % 2 ? '{ echo }' : '{ echo slow }').finally(() => inFlight--);
        if (status !== 200 || body.errors) failures.push(`${status} ${JSON.stringify(body.errors)}`);
        else done++;
      }
    };
    const clients = Array.from({ length: 6 }, (_, i) => client(i));
    try {
      await sleep(300);
      const swapped = Date.now();
      await swap(file, full);
      const inFlightAtSwap = inFlight;
      const contacts = await until('the new field', async () => {
        const { status, body } = await query(base, '{ contacts }');
        return status === 200 ? body.data?.contacts : undefined;
      });
      expect(contacts).toEqual(['Ada']);
      expect(Date.now() - swapped).toBeLessThan(5_000);
      expect(inFlightAtSwap).toBeGreaterThan(0); // requests that began on the old supergraph (they must not fail)
      expect(await reloads(base)).toEqual({ applied: 1, refused: 0 });

      // A broken file: refused, logged and counted once; the full supergraph keeps serving.
      await swap(file, `${full}\ntype Broken {`);
      await until('the refusal', async () => ((await reloads(base)).refused === 1 ? true : undefined));
      expect((await query(base, '{ contacts echo }')).body).toEqual({ data: { contacts: ['Ada'], echo: 'hello' } });
      // The same content again (SIGHUP, another change event): neither logged nor counted again.
      expect(await gateway.reloadSupergraph('SIGHUP')).toBe('refused');
      await sleep(700); // past the poll interval
      expect(await reloads(base)).toEqual({ applied: 1, refused: 1 });
      const refusals = lines.filter((l) => l.msg === 'supergraph refused: it does not parse, compose or load; the current one keeps serving');
      expect(refusals).toHaveLength(1);
      expect(refusals[0]).toMatchObject({ level: 50, trigger: expect.stringMatching(/^file changed/), source: file });
      expect(String(refusals[0]!.err)).toMatch(/Syntax Error/);
      expect(lines.some((l) => l.msg === 'supergraph reloaded' && String(l.trigger).startsWith('file changed'))).toBe(true);
    } finally {
      running = false;
      await Promise.all(clients);
    }
    expect(failures).toEqual([]);
    expect(done).toBeGreaterThan(12);
  });

  it('with watching off (production default), a changed file waits for SIGHUP', async () => {
    const file = join(dir, 'signalled.graphql');
    await writeFile(file, withoutCrm);
    const { base } = await startGateway({ NODE_ENV: 'production', SUPERGRAPH_FILE: file });
    const gateway = gateways.at(-1)!;
    const off = reloadOnSighup(gateway.reloadSupergraph);
    closers.push(async () => off());
    await swap(file, full);
    await sleep(400);
    expect((await query(base, '{ contacts }')).status).toBe(400); // not watched
    process.kill(process.pid, 'SIGHUP');
    const contacts = await until('the new field', async () => {
      const { status, body } = await query(base, '{ contacts }');
      return status === 200 ? body.data?.contacts : undefined;
    });
    expect(contacts).toEqual(['Ada']);
    expect(await gateway.reloadSupergraph('again')).toBe('unchanged');
  });

  it('with SALEOR_API_URL, polls the subgraphs SDL: a changed subgraph is composed and applied, one that breaks composition is refused', async () => {
    // crm's URL leads to whichever of three crm versions is current (a deploy of crm, say); the
    // third adds an `echo` that auth serves too (not shareable): the subgraphs no longer compose.
    const versions: FakeSubgraph[] = [
      graph.crm,
      await startFakeSubgraph('crm', CRM_SDL.replace('type Query {', 'type Query {\n  leads: [String!]'), {
        Query: { contacts: () => ['Ada'], leads: () => ['Grace'] },
      }),
      await startFakeSubgraph('crm', CRM_SDL.replace('type Query {', 'type Query {\n  leads: [String!]\n  echo: Int'), {
        Query: { contacts: () => ['Ada'], leads: () => ['Grace'], echo: () => 1 },
      }),
    ];
    closers.push(() => versions[1]!.close(), () => versions[2]!.close());
    let current = versions[0]!;
    const proxy: Server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const upstream = await fetch(current.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.concat(chunks) });
      res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(await upstream.text());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise<void>((resolve) => (proxy.closeAllConnections(), proxy.close(() => resolve()))));
    const crmUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/graphql`;

    graph.saleor.headers.length = 0;
    const { base, lines } = await startGateway(
      { SALEOR_API_URL: graph.saleor.url, SUPERGRAPH_INTROSPECT_POLL_MS: 200 },
      { auth: graph.auth.url, saleor: graph.saleor.url, crm: crmUrl },
    );
    expect((await query(base, '{ contacts }')).body).toEqual({ data: { contacts: ['Ada'] } });
    current = versions[1]!;
    const leads = await until('the new crm field', async () => {
      const { status, body } = await query(base, '{ leads }');
      return status === 200 ? body.data?.leads : undefined;
    });
    expect(leads).toEqual(['Grace']);
    current = versions[2]!;
    await until('the refusal', async () => ((await reloads(base)).refused === 1 ? true : undefined));
    await sleep(500); // more polls of the same SDL
    expect(await reloads(base)).toEqual({ applied: 1, refused: 1 });
    expect((await query(base, '{ leads echo }')).body).toEqual({ data: { leads: ['Grace'], echo: 'hello' } });
    expect(lines.filter((l) => l.level === 50 && l.trigger === 'poll subgraphs')).toHaveLength(1);
    // Saleor's SDL was fetched with the App token, as its fetches are.
    expect(graph.saleor.headers.length).toBeGreaterThan(2);
    for (const headers of graph.saleor.headers) expect(headers.authorization).toBe(`Bearer ${backends.config.SALEOR_APP_TOKEN}`);
  });
});
