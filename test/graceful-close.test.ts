import { once } from 'node:events';
import { Agent, request, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import auth from '../subgraphs/auth/index.ts';
import { createTestBackends, type TestBackends } from './support/deps.ts';
import { startFakeGateway, startFakeGraph } from './support/gateway-fakes.ts';
import { startSubgraphs, type RunningSubgraphs } from './support/stack.ts';

// Closing (SIGTERM) with a request in flight: the request is answered, and close() ends soon
// after, though the client keeps its keep-alive connections (Node's http.Agent keeps a free
// socket until the server ends it). Without kit/close-drain.ts the connection of that request
// stayed open for Fastify's 72 s Keep-Alive timeout, and close() with it.

const CLOSE_DEADLINE_MS = 10_000;

/**
 * POSTs `{ __typename }` to `url` and calls `close` while the request is in flight (`server` has
 * its headers, half its body is sent), then completes it. Returns the answer and how long `close`
 * took (Infinity: not within CLOSE_DEADLINE_MS).
 */
async function closeDuringRequest(url: string, server: Server, close: () => Promise<void>) {
  const agent = new Agent({ keepAlive: true });
  const body = JSON.stringify({ query: '{ __typename }' });
  const outgoing = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } });
  const answer = new Promise<{ status: number; connection: string | undefined; body: unknown }>((resolve, reject) => {
    outgoing.on('error', reject);
    outgoing.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, connection: response.headers.connection, body: JSON.parse(text) }));
    });
  });
  try {
    const received = once(server, 'request');
    outgoing.write(body.slice(0, 5));
    await received; // the server has the headers: the request is in flight
    const started = performance.now();
    const closed = close().then(() => performance.now() - started);
    await sleep(200);
    outgoing.end(body.slice(5));
    const answered = await answer;
    const closedInMs = await Promise.race([closed, sleep(CLOSE_DEADLINE_MS).then(() => Infinity)]);
    return { answered, closedInMs };
  } finally {
    agent.destroy();
  }
}

describe('close() with a request in flight', () => {
  let backends: TestBackends | undefined;
  let graph: Awaited<ReturnType<typeof startFakeGraph>> | undefined;
  let stack: RunningSubgraphs | undefined;
  afterAll(async () => {
    await graph?.close();
    await backends?.close();
    await stack?.close();
  });

  it('the gateway answers it, keeps the connection alive (the client may reuse it), and still ends within seconds', async () => {
    backends = await createTestBackends();
    graph = await startFakeGraph(0);
    const { gateway, base } = await startFakeGateway(backends, graph.all);
    const { answered, closedInMs } = await closeDuringRequest(`${base}/graphql`, gateway.app.server, () => gateway.close());
    expect(answered).toEqual({ status: 200, connection: 'keep-alive', body: { data: { __typename: 'Query' } } });
    expect(closedInMs).toBeLessThan(CLOSE_DEADLINE_MS);
  });

  it('so does a subgraph (the kit server)', async () => {
    stack = await startSubgraphs([auth]);
    const { answered, closedInMs } = await closeDuringRequest(stack.urls.auth!, stack.servers.auth!.app.server, () => stack!.servers.auth!.close());
    expect(answered).toEqual({ status: 200, connection: 'keep-alive', body: { data: { __typename: 'Query' } } });
    expect(closedInMs).toBeLessThan(CLOSE_DEADLINE_MS);
  });
});
