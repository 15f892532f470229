import { createHash } from 'node:crypto';
import { CacheGenerations } from '../kit/cache.ts';
import type { Tx } from '../kit/db/database.ts';
import type { SubgraphDeps } from '../kit/deps.ts';
import { defineQueue, sendJob, startQueueWorkers, worksOn, type JobContext } from '../kit/jobs/index.ts';
import { tenantKey } from '../kit/redis.ts';
import type { BackgroundTask } from '../kit/server.ts';
import type { Embedder } from '../kit/vectors/embedder.ts';
import { embeddingValues } from '../kit/vectors/write.ts';
import type { GatewayClient } from './analysts/types.ts';
import { runCredentials } from './credentials.ts';
import { createGatewayClient } from './gateway-client.ts';
import type { AgentsContext } from './loaders.ts';
import { agentsEmbedder, insightText, vectorColumns } from './embeddings.ts';
import type { AgentsSettings } from './settings.ts';
import * as store from './store.ts';

/*
 * agents.page_vectors, the tenant's PUBLISHED content pages as `similar` compares them, kept
 * fresh by a job (queue `agents-index-pages`). The agents subgraph reads no cms table: the job
 * reads the pages through the gateway with the credentials of the member whose search found the
 * index stale (every member reads pages), re-embeds only pages whose text (or the embedding model)
 * changed, and deletes those no longer published.
 *
 * Stale means: the cms subgraph's cache generation of the tenant (bumped by every cms write,
 * scheduled publishing included), or the embedding model, differs from what the index was last
 * built at, kept in Redis beside it. The same job re-embeds the tenant's insights embedded with
 * another model (an embedder configured, changed or removed), which searches would otherwise skip. A search that finds it so enqueues the job once (a pending mark in Redis keeps
 * concurrent searches from enqueuing more) and answers from the index as it is. Redis losing both
 * keys only costs one re-index, which re-embeds nothing unchanged.
 */

export type IndexPagesJob = Record<string, never>;

export const indexPagesQueue = defineQueue<IndexPagesJob>('agents-index-pages', {
  // A failure is the gateway's or the database's: retry soon, then less often.
  retryLimit: 3,
  retryDelay: 5,
  retryBackoff: true,
  // Thousands of pages at 100 a request, embedded locally: minutes at most.
  expireInSeconds: 15 * 60,
  retentionMinutes: 24 * 60,
  concurrency: 1,
  pollingIntervalSeconds: 1,
});

/** How long a search's request for an index keeps others from enqueuing another (its job may have failed). */
const PENDING_SECONDS = 120;
const PAGE_SIZE = 100;
const EMBED_BATCH = 32;
const TITLE_MAX = 500;

type RedisDeps = Pick<SubgraphDeps, 'redis' | 'config'>;

const indexedKey = (deps: RedisDeps, tenantId: string) => tenantKey(deps.config.REDIS_PREFIX, tenantId, 'agents', 'pages-indexed');
const pendingKey = (deps: RedisDeps, tenantId: string) => tenantKey(deps.config.REDIS_PREFIX, tenantId, 'agents', 'pages-pending');
const cmsGenerations = (deps: RedisDeps) => new CacheGenerations(deps.redis, deps.config.REDIS_PREFIX, 'cms');
/** What an index was built at: the cms generation and the embedding model. */
const indexState = (generation: string, model: string) => `${generation}|${model}`;

/**
 * Enqueues the index job when the tenant's content changed since the last index (and no job is
 * pending); whether it did. Never fails the search that asks: with Redis unreachable or the job
 * not enqueued, searches answer from the index as it is.
 */
export async function requestPageIndex(ctx: AgentsContext): Promise<boolean> {
  const { tenantId, accountId } = ctx.principal;
  if (!tenantId || !accountId) return false;
  const deps = ctx.deps;
  const generation = await cmsGenerations(deps).current(tenantId);
  if (generation === null) return false;
  const state = indexState(generation, (await agentsEmbedder(deps)).model);
  try {
    if ((await deps.redis.get(indexedKey(deps, tenantId))) === state) return false;
    if ((await deps.redis.set(pendingKey(deps, tenantId), state, 'EX', PENDING_SECONDS, 'NX')) !== 'OK') return false;
  } catch {
    return false;
  }
  try {
    await ctx.tx((tx) => sendJob(tx, indexPagesQueue, {}));
    return true;
  } catch (error) {
    // The search still answers (from the index as it is); the next one asks again.
    ctx.log.warn({ tenant: tenantId, err: (error as Error).message }, 'agents: the page index job was not enqueued');
    await deps.redis.del(pendingKey(deps, tenantId)).catch(() => undefined);
    return false;
  }
}

const PAGES = `query AgentsIndexPages($first: Int!, $after: String) {
  contentPages(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { id liveRevision { title seoTitle seoDescription body {
      __typename
      ... on HeadingBlock { text }
      ... on ParagraphBlock { text }
      ... on QuoteBlock { text }
      ... on CallToActionBlock { text }
      ... on ImageBlock { caption }
      ... on ProductBlock { caption }
    } } } }
  }
}`;

interface LiveRevision {
  title: string;
  seoTitle: string | null;
  seoDescription: string | null;
  body: { __typename: string; text?: string | null; caption?: string | null }[];
}

interface PagesData {
  contentPages: {
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    edges: { node: { id: string; liveRevision: LiveRevision | null } }[];
  } | null;
}

export interface PublishedPage {
  id: string;
  title: string;
  text: string;
}

/** The text of a page's live revision that is embedded: its title, SEO texts and its blocks' text. */
export function pageText(revision: LiveRevision): string {
  const parts = [revision.title, revision.seoTitle, revision.seoDescription, ...revision.body.map((block) => block.text ?? block.caption)];
  return parts.filter((part): part is string => typeof part === 'string' && part.trim() !== '').join('\n\n');
}

/** Every page of the tenant with a live (published) revision, page by page through the gateway. */
export async function publishedPages(gateway: GatewayClient, signal: AbortSignal): Promise<PublishedPage[]> {
  const pages: PublishedPage[] = [];
  let after: string | null = null;
  for (;;) {
    signal.throwIfAborted();
    const data: PagesData = await gateway.query<PagesData>(PAGES, { first: PAGE_SIZE, after });
    const connection = data.contentPages;
    if (!connection) return pages;
    for (const { node } of connection.edges) {
      if (node.liveRevision) pages.push({ id: node.id.toLowerCase(), title: node.liveRevision.title, text: pageText(node.liveRevision) });
    }
    if (!connection.pageInfo.hasNextPage || !connection.pageInfo.endCursor) return pages;
    after = connection.pageInfo.endCursor;
  }
}

/** What decides whether a page is re-embedded: its text and the model embedding it. */
const contentHash = (model: string, text: string) => createHash('sha256').update(`${model}\n${text}`).digest('base64url');

type IndexDeps = SubgraphDeps<AgentsSettings>;

/**
 * The job: reads the published pages, re-embeds the changed ones, deletes the unpublished ones,
 * then records the cms generation read before the pages (a change while it ran moves the
 * generation past it, so the next search indexes again). Counts of what it did.
 */
export async function indexPages(
  deps: IndexDeps,
  job: Pick<JobContext<IndexPagesJob>, 'tenantId' | 'accountId' | 'tx' | 'signal'>,
): Promise<{ embedded: number; deleted: number; unchanged: number; reembeddedInsights: number }> {
  const { tenantId, accountId } = job;
  if (!accountId) throw new Error('agents-index-pages: a job without a member to read pages as');
  const generation = await cmsGenerations(deps).current(tenantId);
  const gateway = createGatewayClient(deps, runCredentials(deps, { tenantId, accountId }), job.signal);
  const pages = await publishedPages(gateway, job.signal);
  const embedder = await agentsEmbedder(deps);
  const known = await job.tx((tx) => store.pageHashes(tx));
  const changed = pages
    .map((page) => ({ ...page, hash: contentHash(embedder.model, page.text) }))
    .filter((page) => known.get(page.id) !== page.hash);
  const published = new Set(pages.map((page) => page.id));
  const gone = [...known.keys()].filter((id) => !published.has(id));

  const vectors: Float32Array[] = [];
  for (let i = 0; i < changed.length; i += EMBED_BATCH) {
    job.signal.throwIfAborted();
    vectors.push(...(await embedder.embed(changed.slice(i, i + EMBED_BATCH).map((page) => page.text))));
  }
  // One transaction: a search sees the index before this job or after it, never half of it.
  if (changed.length || gone.length) await job.tx(async (tx: Tx) => {
    const { pages: column } = await vectorColumns(deps, tx);
    for (const [n, page] of changed.entries()) {
      await store.upsertPageVector(
        tx,
        { page_id: page.id, title: page.title.slice(0, TITLE_MAX), content_hash: page.hash },
        embeddingValues(column, embedder.model, vectors[n]!),
      );
    }
    await store.deletePageVectors(tx, gone);
  });
  const reembedded = await reembedInsights(deps, job, embedder);
  if (generation !== null) {
    await deps.redis.set(indexedKey(deps, tenantId), indexState(generation, embedder.model)).catch(() => undefined);
    await deps.redis.del(pendingKey(deps, tenantId)).catch(() => undefined);
  }
  const result = { embedded: changed.length, deleted: gone.length, unchanged: pages.length - changed.length, reembeddedInsights: reembedded };
  deps.log.info({ tenant: tenantId, ...result }, 'agents: content pages indexed');
  return result;
}

/**
 * Insights embedded with another model than the configured one (the provider's embedder was set,
 * changed or removed) are embedded again, a batch per transaction, so searches find them.
 */
async function reembedInsights(deps: IndexDeps, job: Pick<JobContext<IndexPagesJob>, 'tx' | 'signal'>, embedder: Embedder): Promise<number> {
  let done = 0;
  let after: string | null = null;
  for (;;) {
    job.signal.throwIfAborted();
    const batch = await job.tx((tx) => store.insightsEmbeddedOtherwise(tx, embedder.model, after, EMBED_BATCH));
    if (!batch.length) return done;
    const vectors = await embedder.embed(batch.map(insightText));
    await job.tx(async (tx) => {
      const { insights: column } = await vectorColumns(deps, tx);
      for (const [n, insight] of batch.entries()) await store.setInsightEmbedding(tx, insight.id, embeddingValues(column, embedder.model, vectors[n]!));
    });
    done += batch.length;
    after = batch.at(-1)!.id;
  }
}

/** The worker of the index queue, started with the agents subgraph's server (index.ts background). */
export function startPageIndexer(deps: IndexDeps): BackgroundTask {
  return startQueueWorkers(deps, [worksOn(indexPagesQueue, (job) => indexPages(deps, job))], { what: 'agents: the page index worker' });
}
