import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { writeEpoch } from './write-epoch.ts';

/*
 * In-flight deduplication of whole operations (GATEWAY_OPERATION_DEDUP, on by default): a POST to
 * /graphql identical to one being answered (same body: document, variables, operation name and
 * extensions; same Authorization; same Accept; no write ended since it started: write-epoch.ts)
 * waits for that one's answer and gets a copy of it,
 * instead of taking an admission slot and running the same plan again. Only documents that
 * cannot be mutations take part, and an answer is shared only when it was a query's 200;
 * otherwise the waiter runs as if alone. Identical concurrent queries of one caller (a page's widgets, a
 * dashboard opened in several tabs, a polling burst) then cost one execution. Its subgraph
 * fetches are deduplicated too, one level down (subgraph-client.ts, GATEWAY_FETCH_DEDUP).
 */

/** What a waiter receives from the operation it waited on. */
interface SharedAnswer {
  status: number;
  contentType: string;
  /** Apollo's cache policy of the answer (e.g. `no-store`), which the copies carry too. */
  cacheControl: string | undefined;
  payload: string;
  operationName: string | null;
}

interface Lead {
  settle(answer: SharedAnswer | null): void;
}

const MAY_WRITE = /\b(mutation|subscription)\b/;
const LEAD = Symbol('bizosaas.operationLead');
const SHARED = Symbol('bizosaas.sharedOperation');

type DedupRequest = FastifyRequest & { [LEAD]?: Lead; [SHARED]?: string | null };

export interface OperationDedup {
  /** Runs `run` (the operation), or answers with the identical one's answer in flight. */
  serve(request: FastifyRequest, reply: FastifyReply, run: () => Promise<unknown>): Promise<unknown>;
  /** The operation name of a request answered by sharing (the access log's), undefined if it was not. */
  sharedOperationName(request: FastifyRequest): string | null | undefined;
}

export interface OperationDedupOptions {
  enabled: boolean;
  /** The operation type and name the request resolved to (filled in by the request plugin). */
  operationOf(request: FastifyRequest): { type: string | null; name: string | null } | null;
  /** A request waiting on an identical one in flight (answered with its answer, or run after it when that was not shareable). */
  onShared?(): void;
}

/** The dedup of the /graphql route of `app` (its hooks are added here: call before the route). */
export function operationDedup(app: FastifyInstance, options: OperationDedupOptions): OperationDedup {
  // Off: no hooks on every response, every request runs.
  if (!options.enabled) return { serve: (_request, _reply, run) => run(), sharedOperationName: () => undefined };
  const inflight = new Map<string, Promise<SharedAnswer | null>>();

  const keyOf = (request: FastifyRequest): string | null => {
    if (request.method !== 'POST' || !request.body || typeof request.body !== 'object') return null;
    // Only a document that cannot be a mutation: an identical mutation must not even wait for
    // another's answer (the word anywhere, a field of that name included, is enough to opt out;
    // a persisted document's id alone does not show its type).
    const query = (request.body as { query?: unknown }).query;
    if (typeof query !== 'string' || MAY_WRITE.test(query)) return null;
    return `${writeEpoch()}\n${request.headers.authorization ?? ''}\n${request.headers.accept ?? ''}\n${JSON.stringify(request.body)}`;
  };

  // The lead's answer, as it is sent: shared when it is a query's 200 with a text body, and its
  // client was still there (a lead whose client hung up skipped its later fetches: its answer
  // is partial, for nobody).
  app.addHook('onSend', (request, reply, payload, done) => {
    const lead = (request as DedupRequest)[LEAD];
    if (lead) {
      const operation = options.operationOf(request);
      const contentType = reply.getHeader('content-type');
      const cacheControl = reply.getHeader('cache-control');
      const shareable =
        reply.statusCode === 200 && operation?.type === 'query' && typeof payload === 'string' && typeof contentType === 'string' && request.raw.socket?.destroyed !== true;
      lead.settle(
        shareable
          ? { status: 200, contentType: contentType as string, cacheControl: typeof cacheControl === 'string' ? cacheControl : undefined, payload: payload as string, operationName: operation.name }
          : null,
      );
    }
    done(null, payload);
  });

  return {
    async serve(request, reply, run) {
      const key = keyOf(request);
      if (key === null) return run();
      const pending = inflight.get(key);
      if (pending) {
        options.onShared?.();
        const answer = await pending;
        if (answer) {
          (request as DedupRequest)[SHARED] = answer.operationName;
          if (answer.cacheControl) void reply.header('cache-control', answer.cacheControl);
          return reply.code(answer.status).header('content-type', answer.contentType).send(answer.payload);
        }
        return run();
      }
      let resolve!: (answer: SharedAnswer | null) => void;
      inflight.set(key, new Promise((r) => (resolve = r)));
      let settled = false;
      const lead: Lead = {
        settle(answer) {
          if (settled) return;
          settled = true;
          inflight.delete(key);
          resolve(answer);
        },
      };
      (request as DedupRequest)[LEAD] = lead;
      // A lead whose connection closes before it answered (its client hung up, and Fastify runs
      // neither onSend nor onResponse then): its waiters run on their own.
      reply.raw.once('close', () => lead.settle(null));
      try {
        return await run();
      } catch (error) {
        (request as DedupRequest)[LEAD]!.settle(null);
        throw error;
      }
    },
    sharedOperationName: (request) => (request as DedupRequest)[SHARED],
  };
}
