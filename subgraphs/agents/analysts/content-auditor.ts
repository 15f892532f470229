import { z } from 'zod';
import { RunError } from '../run-error.ts';
import { checkAborted, chunks, collectAll, type Connection } from './connection.ts';
import { body, day, esc, table, title } from './markdown.ts';
import { daysBetween, groupBy } from './stats.ts';
import type { AgentKindDefinition, AnalystContext, InsightDraft, InsightSeverity } from './types.ts';

/*
 * Content auditor: the tenant's content pages (cms, as the run's member sees them: the latest
 * revision) checked for a missing meta description, thin text, staleness, products Saleor no
 * longer sells and duplicate titles. One insight per page with problems (its problems together,
 * the worst first, at most `maxPageInsights`) and one summary with every count.
 *
 * Products are checked at Saleor through the gateway, each (id, channel) once: not found or not
 * listed in the channel (Saleor answers null), or not available for purchase. A product Saleor
 * answered with an error for is not judged (logged): an outage must not read as "not sold".
 */

export const contentAuditorSettings = z.object({
  minWords: z.number().int().min(0).max(100_000).default(300).describe('Pages with fewer words of text (headings, paragraphs, quotes, buttons) are thin.'),
  staleDays: z.number().int().min(1).max(3650).default(180).describe('Published pages not updated for this many days are stale.'),
  includeDrafts: z.boolean().default(false).describe('Audit drafts too (default: only what visitors see or will see: published and scheduled pages).'),
  maxPageInsights: z.number().int().min(0).max(200).default(25).describe('Pages reported one by one (worst first); the summary counts them all.'),
});
type Settings = z.infer<typeof contentAuditorSettings>;

interface ProductRef {
  id: string;
  channel: string | null;
}
interface Block {
  __typename: string;
  text?: string;
  product?: ProductRef | null;
}
interface PageNode {
  id: string;
  title: string;
  urlPath: string;
  locale: string;
  status: 'DRAFT' | 'PUBLISHED' | 'SCHEDULED';
  seoDescription: string | null;
  updatedAt: string;
  featuredProducts: (ProductRef | null)[];
  body: Block[];
}

// Only the products' key fields: cms answers them itself, Saleor is asked once per product below.
const PAGES = `query AgentPages($first: Int, $after: String) {
  contentPages(first: $first, after: $after, sortBy: { field: URL_PATH, direction: ASC }) {
    edges { node {
      id title urlPath locale status seoDescription updatedAt
      featuredProducts { id channel }
      body {
        __typename
        ... on HeadingBlock { text }
        ... on ParagraphBlock { text }
        ... on QuoteBlock { text }
        ... on CallToActionBlock { text }
        ... on ProductBlock { product { id channel } }
      }
    } }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** Saleor look-ups per request (aliases; the gateway allows 15). */
const PRODUCT_BATCH = 10;

type Problem =
  | { type: 'missing_meta' }
  | { type: 'thin'; words: number }
  | { type: 'stale'; days: number }
  | { type: 'unsold_products'; products: { id: string; channel: string; reason: string }[] }
  | { type: 'duplicate_title'; others: { id: string; urlPath: string }[] };

const SEVERITY: Record<Problem['type'], InsightSeverity> = {
  unsold_products: 'warning',
  duplicate_title: 'warning',
  missing_meta: 'warning',
  thin: 'info',
  stale: 'info',
};
const RANK: Record<InsightSeverity, number> = { critical: 2, warning: 1, info: 0 };

export const wordCount = (text: string): number => (text.match(/[\p{L}\p{N}][\p{L}\p{N}'’-]*/gu) ?? []).length;
const normalizeTitle = (t: string) => t.trim().toLowerCase().replace(/\s+/g, ' ');
const refKey = (r: { id: string; channel: string }) => `${r.channel}\u0000${r.id}`;

async function run(ctx: AnalystContext) {
  const settings = contentAuditorSettings.parse(ctx.settings);
  await ctx.progress(5, 'Reading the content pages');
  const all = await collectAll<PageNode, { contentPages: Connection<PageNode> | null }>(ctx, PAGES, {}, (d) => d.contentPages);
  const pages = all.filter((p) => settings.includeDrafts || p.status !== 'DRAFT');
  await ctx.progress(50, `Checking ${pages.length} pages`);

  const refsOf = (p: PageNode): { id: string; channel: string }[] =>
    [...p.featuredProducts, ...p.body.map((b) => b.product)]
      .filter((r): r is ProductRef => !!r?.id && !!r.channel)
      .map((r) => ({ id: r.id, channel: r.channel! }));
  const unique = new Map<string, { id: string; channel: string }>();
  for (const p of pages) for (const r of refsOf(p)) unique.set(refKey(r), r);
  const verdicts = await checkProducts(ctx, [...unique.values()]);

  await ctx.progress(85, 'Writing the findings');
  const duplicates = new Map<string, PageNode[]>();
  for (const group of groupBy(pages, (p) => `${p.locale}\u0000${normalizeTitle(p.title)}`).values()) {
    if (group.length > 1) for (const p of group) duplicates.set(p.id, group);
  }
  const audited = pages.map((page) => {
    const problems: Problem[] = [];
    if (!page.seoDescription?.trim()) problems.push({ type: 'missing_meta' });
    const words = wordCount(page.body.map((b) => b.text ?? '').join(' '));
    if (words < settings.minWords) problems.push({ type: 'thin', words });
    const age = daysBetween(page.updatedAt, ctx.now);
    if (page.status === 'PUBLISHED' && age > settings.staleDays) problems.push({ type: 'stale', days: Math.floor(age) });
    const seen = new Set<string>();
    const unsold = refsOf(page).flatMap((r) => {
      const reason = verdicts.get(refKey(r));
      if (!reason || seen.has(refKey(r))) return [];
      seen.add(refKey(r));
      return [{ ...r, reason }];
    });
    if (unsold.length) problems.push({ type: 'unsold_products', products: unsold });
    const twins = duplicates.get(page.id);
    if (twins) problems.push({ type: 'duplicate_title', others: twins.filter((t) => t.id !== page.id).map((t) => ({ id: t.id, urlPath: t.urlPath })) });
    const severity = problems.reduce<InsightSeverity>((worst, p) => (RANK[SEVERITY[p.type]] > RANK[worst] ? SEVERITY[p.type] : worst), 'info');
    return { page, problems, severity, words };
  });
  const flagged = audited
    .filter((a) => a.problems.length)
    .sort((a, b) => RANK[b.severity] - RANK[a.severity] || b.problems.length - a.problems.length || a.page.urlPath.localeCompare(b.page.urlPath));
  const insights: InsightDraft[] = [summary(audited, settings, verdicts.size, unique.size)];
  for (const a of flagged.slice(0, settings.maxPageInsights)) insights.push(pageInsight(a, settings));
  return { insights };
}

/** (id, channel) -> why it is not sold, for the products Saleor does not sell there; unjudged ones are absent. */
async function checkProducts(ctx: AnalystContext, refs: { id: string; channel: string }[]): Promise<Map<string, string>> {
  const verdicts = new Map<string, string>();
  let unchecked = 0;
  for (const batch of chunks(refs, PRODUCT_BATCH)) {
    checkAborted(ctx.signal);
    const params = batch.map((_, i) => `$id${i}: ID!, $c${i}: String!`).join(', ');
    const fields = batch.map((_, i) => `p${i}: product(id: $id${i}, channel: $c${i}) { id isAvailableForPurchase }`).join('\n');
    const variables = Object.fromEntries(batch.flatMap((r, i) => [[`id${i}`, r.id], [`c${i}`, r.channel]]));
    const { data, errors } = await ctx.gateway.query<Record<string, { id: string; isAvailableForPurchase: boolean | null } | null>>(
      `query AgentProducts(${params}) {\n${fields}\n}`,
      variables,
      { partial: true },
    );
    const failed = new Set(errors.map((e) => e.path?.[0]).filter((p) => typeof p === 'string'));
    if (!data || (errors.length && failed.size === 0)) {
      throw new RunError('UPSTREAM_ERROR', 'The products could not be checked at Saleor.');
    }
    batch.forEach((ref, i) => {
      const alias = `p${i}`;
      if (failed.has(alias)) unchecked++;
      else if (!data[alias]) verdicts.set(refKey(ref), `not found or not listed in ${ref.channel}`);
      else if (data[alias]!.isAvailableForPurchase === false) verdicts.set(refKey(ref), `not available for purchase in ${ref.channel}`);
    });
  }
  if (unchecked) await ctx.log(`${unchecked} products could not be checked at Saleor and were not judged`);
  return verdicts;
}

type Audited = { page: PageNode; problems: Problem[]; severity: InsightSeverity; words: number };

const describe = (p: Problem, settings: Settings): string => {
  switch (p.type) {
    case 'missing_meta':
      return 'No meta description (search engines then make up a snippet).';
    case 'thin':
      return `Thin: ${p.words} words of text (fewer than ${settings.minWords}).`;
    case 'stale':
      return `Stale: published and not updated for ${p.days} days (more than ${settings.staleDays}).`;
    case 'unsold_products':
      return `Shows products Saleor no longer sells: ${p.products.map((x) => `\`${esc(x.id)}\` (${esc(x.reason)})`).join(', ')}.`;
    case 'duplicate_title':
      return `Same title as ${p.others.map((o) => `\`${esc(o.urlPath)}\``).join(', ')}.`;
  }
};

function pageInsight({ page, problems, severity, words }: Audited, settings: Settings): InsightDraft {
  return {
    kind: 'content_audit',
    severity,
    title: title(`${page.urlPath}: ${problems.map((p) => p.type.replace('_', ' ')).join(', ')}`),
    body: body([`**${esc(page.title)}** (\`${esc(page.urlPath)}\`, ${page.status.toLowerCase()}, updated ${day(page.updatedAt)}):`, problems.map((p) => `- ${describe(p, settings)}`).join('\n')]),
    subject: { type: 'ContentPage', id: page.id },
    evidence: { urlPath: page.urlPath, status: page.status, words, updatedAt: page.updatedAt, problems },
  };
}

function summary(audited: Audited[], settings: Settings, unsoldProducts: number, checkedProducts: number): InsightDraft {
  const of = (type: Problem['type']) => audited.filter((a) => a.problems.some((p) => p.type === type));
  const lists = {
    missing_meta: of('missing_meta'),
    thin: of('thin'),
    stale: of('stale'),
    unsold_products: of('unsold_products'),
    duplicate_title: of('duplicate_title'),
  };
  const flagged = audited.filter((a) => a.problems.length).length;
  const labels: Record<keyof typeof lists, string> = {
    missing_meta: 'No meta description',
    thin: `Thin (under ${settings.minWords} words)`,
    stale: `Stale (not updated for ${settings.staleDays} days)`,
    unsold_products: 'Products no longer sold',
    duplicate_title: 'Duplicate title',
  };
  return {
    kind: 'content_audit_summary',
    severity: lists.unsold_products.length || lists.duplicate_title.length ? 'warning' : 'info',
    title: title(`Content audit: ${flagged} of ${audited.length} pages need work`),
    body: body([
      `${audited.length} ${settings.includeDrafts ? '' : 'published or scheduled '}pages audited; ${checkedProducts} products they show were checked at Saleor, ${unsoldProducts} are no longer sold.`,
      table(
        ['Problem', 'Pages', 'For example'],
        (Object.keys(lists) as (keyof typeof lists)[]).map((k) => [labels[k], lists[k].length, lists[k].slice(0, 5).map((a) => `\`${esc(a.page.urlPath)}\``).join(', ')]),
      ),
    ]),
    evidence: {
      pages: audited.length,
      flagged,
      productsChecked: checkedProducts,
      productsNotSold: unsoldProducts,
      // Counts, and the pages' ids (at most 500 each) so a client can list them.
      ...Object.fromEntries(Object.entries(lists).map(([k, v]) => [k, { count: v.length, pageIds: v.slice(0, 500).map((a) => a.page.id) }])),
    },
  };
}

export const contentAuditor: AgentKindDefinition = {
  kind: 'CONTENT_AUDITOR',
  description:
    'Audits the content pages: missing meta descriptions, thin and stale pages, products Saleor no longer sells, duplicate titles.',
  needsModel: false,
  settings: contentAuditorSettings,
  run,
};
