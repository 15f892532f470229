import { badInput, notFound } from '../kit/errors.ts';
import { isUuid } from '../kit/formats.ts';
import type { Embedder } from '../kit/vectors/embedder.ts';
import { nearest } from '../kit/vectors/search.ts';
import type { QuerySearchInsightsArgs, QuerySimilarArgs, SimilarType } from './__generated__/resolvers-types.ts';
import { agentsEmbedder, insightText, vectorColumns } from './embeddings.ts';
import type { AgentsContext } from './loaders.ts';
import type { InsightSearchHitModel, SimilarHitModel } from './mappers.ts';
import { requestPageIndex } from './pages-index.ts';
import * as store from './store.ts';

/*
 * Similarity search over the tenant's insights and its published content pages (kit/vectors):
 * pgvector's hnsw index where the migration found pgvector, exact cosine over real[] elsewhere.
 * Searches run in the caller's tenant transaction (row-level security) and compare only vectors
 * of the configured embedder's model and dimension.
 */

const TEXT_MAX = 2_000;
const FIRST_DEFAULT = 10;
const FIRST_MAX = 50;

/** `first` of a search: 1 to 50, default 10 (beyond is an input error, not a silent cap). */
function firstOf(first: number | null | undefined): number {
  if (first == null) return FIRST_DEFAULT;
  if (!Number.isInteger(first) || first < 1 || first > FIRST_MAX) throw badInput(`"first" must be between 1 and ${FIRST_MAX}.`, 'first');
  return first;
}

function textOf(text: string, field: string): string {
  const trimmed = text.trim();
  if (!trimmed || text.length > TEXT_MAX) throw badInput(`"${field}" must be 1 to ${TEXT_MAX} characters.`, field);
  return trimmed;
}

const INSIGHT_COLUMNS = store.INSIGHTS.columns.split(', ');

/** Insights not dismissed nearest to `vector`, best first (`except`: an insight left out). */
async function nearestInsights(ctx: AgentsContext, vector: Float32Array, model: string, limit: number, except?: string) {
  return ctx.tx(async (tx) => {
    const { insights } = await vectorColumns(ctx.deps, tx);
    return nearest<store.InsightRow & Record<string, unknown>>(tx, insights, {
      model,
      vector,
      limit,
      select: INSIGHT_COLUMNS,
      where: (p) => (except ? `dismissed_at IS NULL AND id <> ${p.add(except)}::uuid` : 'dismissed_at IS NULL'),
    });
  });
}

export async function searchInsights(ctx: AgentsContext, args: QuerySearchInsightsArgs): Promise<InsightSearchHitModel[]> {
  const text = textOf(args.text, 'text');
  const limit = firstOf(args.first);
  // Insights embedded with another model are re-embedded by the index job.
  await requestPageIndex(ctx);
  const embedder = await agentsEmbedder(ctx.deps);
  const [vector] = await embedder.embed([text]);
  const rows = await nearestInsights(ctx, vector!, embedder.model, limit);
  return rows.map(({ score, ...insight }) => {
    ctx.loaders.insight.prime(insight.id, insight);
    return { score, insight };
  });
}

/** `[0.1,0.2]` (pgvector) or `{0.1,0.2}` (real[]): a stored vector read back as text. */
const parseVector = (text: string) => Float32Array.from(text.slice(1, -1).split(',').map(Number));

/** The vector `similar` compares with, and what to leave out of its results. */
async function similarTo(ctx: AgentsContext, to: QuerySimilarArgs['to'], embedder: Embedder) {
  if (to.text != null) {
    const [vector] = await embedder.embed([textOf(to.text, 'to.text')]);
    return { vector: vector!, model: embedder.model };
  }
  if (to.insightId != null) {
    const id = to.insightId.toLowerCase();
    const insight = isUuid(id) ? await ctx.loaders.insight.load(id) : null;
    if (!insight) throw notFound('Insight');
    const [vector] = await embedder.embed([insightText(insight)]);
    return { vector: vector!, model: embedder.model, insightId: id };
  }
  const id = to.contentPageId!.toLowerCase();
  const page = isUuid(id) ? await ctx.tx((tx) => store.pageEmbedding(tx, id)) : null;
  // Content pages are the tenant's published pages, as indexed (pages-index.ts).
  if (!page || page.model !== embedder.model) throw notFound('ContentPage');
  return { vector: parseVector(page.embedding), model: page.model, contentPageId: id };
}

export async function similar(ctx: AgentsContext, args: QuerySimilarArgs): Promise<SimilarHitModel[]> {
  const limit = firstOf(args.first);
  const { to } = args;
  if ([to.text, to.insightId, to.contentPageId].filter((value) => value != null).length !== 1) {
    throw badInput('Give exactly one of "to.text", "to.insightId" and "to.contentPageId".', 'to');
  }
  const types = new Set<SimilarType>(args.types?.length ? args.types : ['INSIGHT', 'CONTENT_PAGE']);
  // Content changed (or the embedder) since the pages were last indexed: a job re-embeds them
  // (these results come from the index as it is).
  await requestPageIndex(ctx);
  const embedder = await agentsEmbedder(ctx.deps);
  const target = await similarTo(ctx, args.to, embedder);
  const hits: SimilarHitModel[] = [];
  if (types.has('INSIGHT')) {
    for (const { score, ...insight } of await nearestInsights(ctx, target.vector, target.model, limit, target.insightId)) {
      ctx.loaders.insight.prime(insight.id, insight);
      hits.push({ score, type: 'INSIGHT', insight, contentPage: null });
    }
  }
  if (types.has('CONTENT_PAGE')) {
    const pages = await ctx.tx(async (tx) => {
      const { pages: column } = await vectorColumns(ctx.deps, tx);
      return nearest<{ page_id: string }>(tx, column, {
        model: target.model,
        vector: target.vector,
        limit,
        select: ['page_id'],
        where: target.contentPageId ? (p) => `page_id <> ${p.add(target.contentPageId)}::uuid` : undefined,
      });
    });
    for (const page of pages) {
      hits.push({ score: page.score, type: 'CONTENT_PAGE', insight: null, contentPage: { id: page.page_id } });
    }
  }
  return hits.sort((a, b) => b.score - a.score).slice(0, limit);
}
