import type { FastifyInstance } from 'fastify';
import type { Dispatcher } from 'undici';
import { request } from 'undici';
import { healthUrl } from './supergraph.ts';

const READY_TIMEOUT_MS = 1_000;

async function isUp(url: string, dispatcher: Dispatcher): Promise<boolean> {
  try {
    const response = await request(url, { dispatcher, signal: AbortSignal.timeout(READY_TIMEOUT_MS) });
    await response.body.dump();
    return response.statusCode === 200;
  } catch {
    return false;
  }
}

/**
 * `/health`: the process is alive (for restarts). `/ready`: every subgraph's `/health` answers 200
 * within a second (for load balancers: send traffic only when the whole graph can answer).
 * Subgraph names, never their internal URLs, appear in the answer.
 */
export function registerHealthRoutes(app: FastifyInstance, subgraphUrls: Record<string, string>, dispatcher: Dispatcher) {
  const targets = Object.entries(subgraphUrls).map(([name, url]) => ({ name, url: healthUrl(url) }));
  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/ready', async (_request, reply) => {
    const results = await Promise.all(targets.map(async (t) => [t.name, await isUp(t.url, dispatcher)] as const));
    const down = results.filter(([, up]) => !up).map(([name]) => name);
    const subgraphs = Object.fromEntries(results.map(([name, up]) => [name, up ? 'up' : 'down']));
    if (down.length) return reply.code(503).send({ status: 'unavailable', down, subgraphs });
    return { status: 'ready', subgraphs };
  });
}
