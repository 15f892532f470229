import type { Database, Tx } from '../kit/db/database.ts';
import type { SubgraphDeps } from '../kit/deps.ts';
import { describeVectorColumn, type VectorColumn } from '../kit/vectors/column.ts';
import type { Embedder } from '../kit/vectors/embedder.ts';
import { HashEmbedder } from '../kit/vectors/hash-embedder.ts';
import { embeddingValues } from '../kit/vectors/write.ts';
import { providerEmbedder } from './llm/index.ts';
import type { AgentsSettings } from './settings.ts';

/*
 * The agents subgraph's embeddings: which embedder (the provider's or the local one), how its
 * vector columns are stored, and what of an insight is embedded. Used by the searches
 * (search.ts), the page index (pages-index.ts) and the run executor's insight writes (runs/).
 */

type EmbedderDeps = Pick<SubgraphDeps<AgentsSettings>, 'settings' | 'log'>;

const localEmbedder = new HashEmbedder();

/**
 * The embedder of these settings: the provider's (EMBEDDING_MODEL at LLM_BASE_URL, llm/embedder.ts;
 * it throws RunError when the provider fails) when one is configured, else the process's local
 * hashing embedder (`local-hash-v1`, 384 dimensions, no download; one per process, so its word
 * cache lasts).
 */
export async function agentsEmbedder(deps: EmbedderDeps): Promise<Embedder> {
  return (await providerEmbedder(deps)) ?? localEmbedder;
}

export interface AgentsVectorColumns {
  insights: VectorColumn;
  pages: VectorColumn;
}

const columns = new WeakMap<Database, Promise<AgentsVectorColumns>>();

/**
 * How the vector columns are stored (pgvector or exact cosine), read from the catalog once per
 * database and logged once: the choice was made when the migration ran.
 */
export function vectorColumns(deps: Pick<SubgraphDeps, 'db' | 'log'>, tx: Tx): Promise<AgentsVectorColumns> {
  let found = columns.get(deps.db);
  if (!found) {
    found = (async () => {
      const described = { insights: await describeVectorColumn(tx, 'agents.insights'), pages: await describeVectorColumn(tx, 'agents.page_vectors') };
      deps.log.info({ insights: described.insights.note, pages: described.pages.note }, 'agents: similarity search storage');
      return described;
    })();
    found.catch(() => columns.delete(deps.db));
    columns.set(deps.db, found);
  }
  return found;
}

/** What of an insight is embedded (and searched): its title and body. */
export const insightText = (insight: { title: string; body: string }) => `${insight.title}\n\n${insight.body}`;

/**
 * The embedding columns of each insight (kit/vectors embeddingValues), in order, for the run
 * executor's insert (runs/store.ts insertInsight): one embedder call for all of them, made
 * outside any transaction (a provider's embedder is a network call).
 */
export async function insightEmbeddings(
  deps: Pick<SubgraphDeps<AgentsSettings>, 'db' | 'log' | 'settings'>,
  insights: readonly { title: string; body: string }[],
): Promise<Record<string, string | number | null>[]> {
  if (!insights.length) return [];
  const { insights: column } = await deps.db.withTenant({ tenantId: null, accountId: null }, (tx) => vectorColumns(deps, tx));
  const embedder = await agentsEmbedder(deps);
  const vectors = await embedder.embed(insights.map(insightText));
  return vectors.map((vector) => embeddingValues(column, embedder.model, vector));
}
