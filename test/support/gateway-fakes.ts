import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import { createRequire } from 'node:module';
import type { Gateway } from '../../gateway/server.ts';
import type { GatewayConfig as Config } from '../../gateway/config.ts';
import type { TestBackends } from './deps.ts';
import { uniqueSuffix } from './services.ts';

// The CommonJS graphql that @apollo/subgraph uses (vitest would otherwise hand us the .mjs copy).
const { execute, parse } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

/**
 * Tiny real subgraphs for gateway tests: @apollo/subgraph schemas over node:http on port 0, each
 * recording the headers it received. Not the kit's server: these test the gateway alone.
 */
export interface FakeSubgraph {
  name: string;
  url: string;
  sdl: string;
  headers: IncomingHttpHeaders[];
  close(): Promise<void>;
}

export async function startFakeSubgraph(
  name: string,
  sdl: string,
  resolvers: GraphQLResolverMap<unknown>,
  /** Answers a request itself instead of the schema when it returns one (a subgraph's own limits). */
  intercept?: (body: { query: string; variables?: Record<string, unknown> }) => { status: number; body: unknown } | undefined,
): Promise<FakeSubgraph> {
  const schema = buildSubgraphSchema({ typeDefs: parse(sdl), resolvers });
  const headers: IncomingHttpHeaders[] = [];
  const server: Server = createServer(async (req, res) => {
    if (req.method === 'GET' && req.url === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    headers.push(req.headers);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const intercepted = intercept?.(body);
    if (intercepted) {
      res.writeHead(intercepted.status, { 'content-type': 'application/json' }).end(JSON.stringify(intercepted.body));
      return;
    }
    const result = await execute({
      schema,
      document: parse(body.query),
      variableValues: body.variables,
      operationName: body.operationName,
      contextValue: { headers: req.headers },
    });
    // Like a careless subgraph: original messages and stacks go out as they are.
    const errors = result.errors?.map((e) => ({ ...e.toJSON(), extensions: { ...e.extensions, stacktrace: e.originalError?.stack?.split('\n') } }));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...result, errors }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    name,
    url: `http://127.0.0.1:${port}/graphql`,
    sdl,
    headers,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A URL where nothing listens (a port that was free a moment ago). */
export async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/graphql`;
}

// (The gateway's modules are imported when first needed: the benchmarks run fake subgraphs alone.)

/** The supergraph of these fake subgraphs; a composition error fails the caller. */
export async function composeFakes(subgraphs: readonly FakeSubgraph[]): Promise<string> {
  const { composeSdl } = await import('../../gateway/compose.ts');
  const { supergraphSdl, errors } = composeSdl(subgraphs);
  if (errors.length || !supergraphSdl) throw new Error(`the fake subgraphs do not compose: ${errors.map((e) => e.message).join('; ')}`);
  return supergraphSdl;
}

/**
 * A gateway on port 0 over fake subgraphs (composed here unless `supergraphSdl` is given; routed
 * to them unless `subgraphUrls` is): the test backends' config with `config` over it, rate-limit
 * counters of its own, tokens verified with the backends' keys. The caller closes it.
 */
export async function startFakeGateway(
  backends: TestBackends,
  subgraphs: readonly FakeSubgraph[],
  options: { config?: Partial<Config>; supergraphSdl?: string; subgraphUrls?: Record<string, string> } = {},
): Promise<{ gateway: Gateway; base: string }> {
  const { createGateway } = await import('../../gateway/server.ts');
  const gateway = await createGateway({
    config: { ...backends.config, REDIS_PREFIX: `${backends.config.REDIS_PREFIX}${uniqueSuffix()}:`, ...options.config },
    supergraphSdl: options.supergraphSdl ?? (await composeFakes(subgraphs)),
    subgraphUrls: options.subgraphUrls ?? Object.fromEntries(subgraphs.map((s) => [s.name, s.url])),
    verifyToken: backends.verifyToken,
  });
  return { gateway, base: await gateway.listen(0, '127.0.0.1') };
}

const FED2 = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable"])';

export const AUTH_SDL = `${FED2}
type Query {
  viewer: Viewer
  echo: String
  boom: String
  tree: TreeNode
}
type Mutation { login(email: String!, password: String!): String }
type Viewer { id: ID! email: String! }
type TreeNode { id: ID! name: String child: TreeNode }
type Person @key(fields: "id") { id: ID! name: String! }
`;

export const SALEOR_SDL = `${FED2}
type Query { products(first: Int, channel: String): ProductConnection }
type ProductConnection { totalCount: Int edges: [ProductEdge!]! }
type ProductEdge { node: Product! }
type Product @key(fields: "id") { id: ID! name: String! }
`;

export const SLOW_SDL = `${FED2}
type Query { slow: String slowPerson: Person }
type Person @key(fields: "id", resolvable: false) { id: ID! }
`;

export const CRM_SDL = `${FED2}
type Query { contacts: [String!] }
`;

const tree = (depth: number): unknown => (depth === 0 ? null : { id: String(depth), name: `n${depth}`, child: tree(depth - 1) });

/** The fake subgraphs the gateway tests compose: auth, saleor, a slow one and crm (stoppable). */
export async function startFakeGraph(slowMs: number) {
  // The slow subgraph answers after slowMs, or at once while released (`releaseSlow`, until
  // `holdSlow`): a test that must act while a fetch is held holds it as long as it needs, however
  // busy the machine, and is not slowed by a fixed wait either.
  const held = new Set<() => void>();
  let released = false;
  const slowly = async () => {
    if (released) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        held.delete(done);
        resolve();
      };
      const timer = setTimeout(done, slowMs);
      held.add(done);
    });
  };
  const auth = await startFakeSubgraph('auth', AUTH_SDL, {
    Query: {
      viewer: () => ({ id: '1', email: 'owner@acme.example' }),
      echo: () => 'hello',
      tree: () => tree(20),
      boom: () => {
        throw new Error('insert into auth.accounts (email) values ($1) failed: duplicate key at postgres://app@10.0.0.5:5432/bizosaas');
      },
    },
    Mutation: { login: () => 'token' },
    Person: { __resolveReference: ({ id }: { id: string }) => ({ id, name: `person ${id}` }) },
  });
  const saleor = await startFakeSubgraph('saleor', SALEOR_SDL, {
    Query: { products: () => ({ totalCount: 1, edges: [{ node: { id: 'UHJvZHVjdDox', name: 'Mug' } }] }) },
  });
  const slow = await startFakeSubgraph('slow', SLOW_SDL, {
    Query: { slow: async () => (await slowly(), 'finally'), slowPerson: async () => (await slowly(), { id: '7' }) },
  });
  const crm = await startFakeSubgraph('crm', CRM_SDL, { Query: { contacts: () => ['Ada'] } });
  const all = [auth, saleor, slow, crm];
  return {
    auth,
    saleor,
    slow,
    crm,
    all,
    urls: Object.fromEntries(all.map((s) => [s.name, s.url])) as Record<string, string>,
    /** The slow subgraph answers what it holds, and from now on at once. */
    releaseSlow() {
      released = true;
      for (const done of [...held]) done();
    },
    /** The slow subgraph holds its answers again (slowMs, or until released). */
    holdSlow() {
      released = false;
    },
    close: () => {
      for (const done of [...held]) done();
      return Promise.all(all.map((s) => s.close()));
    },
  };
}

/**
 * Test backends (with `env`), the fake graph (its slow subgraph answering after `slowMs`) and a
 * gateway over it; `close` stops them all.
 */
export type FakeStack = Awaited<ReturnType<typeof startFakeStack>>;

export async function startFakeStack(env: Record<string, string>, slowMs: number) {
  const { createTestBackends } = await import('./deps.ts');
  const backends = await createTestBackends(env);
  const graph = await startFakeGraph(slowMs);
  const { gateway, base } = await startFakeGateway(backends, graph.all);
  return {
    backends,
    graph,
    gateway,
    base,
    async close() {
      await gateway.close();
      await graph.close();
      await backends.close();
    },
  };
}
