import { tool, type ToolSet } from 'ai';
import { z } from 'zod';
import type { GatewayClient } from '../analysts/types.ts';
import { isRunError } from '../run-error.ts';

/**
 * The tools a model may call: reads of the tenant's leads, pipeline, pages and products, each a
 * GraphQL query through the gateway with the run's credentials (`ctx.gateway`). The model gets
 * exactly what its member could read and nothing to write with: there are no write tools, and
 * row-level security and the gateway's rules decide every answer as for any request. Answers
 * are cut to a size bound (the model's context, and the tenant's tokens, are not for bulk data).
 */

/** The most characters of one tool answer, as JSON. */
export const TOOL_RESULT_MAX_CHARS = 8_000;
const STRING_MAX = 500;
const LIST_MAX = 50;

export const READ_TOOL_NAMES = ['read_leads', 'read_pipeline', 'read_pages', 'read_products'] as const;

const LEAD_FIELDS = 'id name company title source status score tags createdAt lastActivityAt convertedAt';
const DEAL_FIELDS = 'id title amount currency probability expectedCloseDate closedAt updatedAt stage { name kind }';
const PAGE_FIELDS = 'id title urlPath status seoDescription updatedAt lastPublishedAt';

const first = z.number().int().min(1).max(LIST_MAX).optional().describe(`How many, 1 to ${LIST_MAX} (default 20).`);
const search = z.string().min(1).max(200).optional().describe('Full-text search.');
const id = z.string().min(1).max(100).optional().describe('One item by id (the other filters are then ignored).');

export function readTools(gateway: GatewayClient): ToolSet {
  /** The item `field` of a by-id query: `{ found: false }` when it does not exist for this member. */
  const byId = async (document: string, field: string, value: string) => {
    const { data, errors } = await gateway.query<Record<string, unknown>>(document, { id: value }, { partial: true });
    const item = data?.[field];
    if (item) return { found: true, [field]: item };
    const denied = errors.find((e) => e.code === 'FORBIDDEN' || e.code === 'UNAUTHENTICATED');
    return denied ? { error: 'Not allowed for this member.' } : { found: false };
  };

  return {
    read_leads: tool({
      description: 'Read CRM leads of this tenant (newest first), or one lead by id with its latest activities.',
      inputSchema: z.object({
        id,
        search,
        status: z.array(z.enum(['NEW', 'CONTACTED', 'QUALIFIED', 'UNQUALIFIED', 'CONVERTED'])).max(5).optional(),
        first,
      }),
      execute: (input) =>
        answer(() =>
          input.id
            ? byId(`query($id: ID!) { lead(id: $id) { ${LEAD_FIELDS} email notes activities(first: 10) { edges { node { type subject done dueAt createdAt } } } } }`, 'lead', input.id)
            : gateway.query(`query($first: Int, $filter: LeadFilter) { leads(first: $first, filter: $filter) { totalCount edges { node { ${LEAD_FIELDS} } } } }`, {
                first: input.first ?? 20,
                filter: { search: input.search, status: input.status },
              }),
        ),
    }),
    read_pipeline: tool({
      description: "Read the sales pipeline: its stages with deal counts and amounts, and deals (by stage kind, search), or one deal by id.",
      inputSchema: z.object({
        id,
        search,
        stageKinds: z.array(z.enum(['OPEN', 'WON', 'LOST'])).max(3).optional(),
        first,
      }),
      execute: (input) =>
        answer(() =>
          input.id
            ? byId(`query($id: ID!) { deal(id: $id) { ${DEAL_FIELDS} notes tags } }`, 'deal', input.id)
            : gateway.query(
                `query($first: Int, $filter: DealFilter) {
                  pipeline { dealCount amounts { currency amount } stages { stage { name kind probability } dealCount amounts { currency amount } weightedAmounts { currency amount } } }
                  deals(first: $first, filter: $filter) { totalCount edges { node { ${DEAL_FIELDS} } } }
                }`,
                { first: input.first ?? 20, filter: { search: input.search, stageKinds: input.stageKinds } },
              ),
        ),
    }),
    read_pages: tool({
      description: "Read the tenant's CMS content pages (title, path, status), or one page by id with its text.",
      inputSchema: z.object({ id, search, status: z.enum(['DRAFT', 'PUBLISHED', 'SCHEDULED']).optional(), first }),
      execute: (input) =>
        answer(() =>
          input.id
            ? byId(
                `query($id: ID!) { contentPage(id: $id) { ${PAGE_FIELDS} body { __typename ... on HeadingBlock { text } ... on ParagraphBlock { text } ... on QuoteBlock { text } } } }`,
                'contentPage',
                input.id,
              )
            : gateway.query(`query($first: Int, $filter: ContentPageFilterInput) { contentPages(first: $first, filter: $filter) { totalCount edges { node { ${PAGE_FIELDS} } } } }`, {
                first: input.first ?? 20,
                filter: { search: input.search, status: input.status },
              }),
        ),
    }),
    read_products: tool({
      description: "Read products of the tenant's shop channel (name, price, availability), optionally searched.",
      inputSchema: z.object({ search, first }),
      execute: (input) =>
        answer(async () => {
          const { tenant } = await gateway.query<{ tenant: { saleorChannel: string } | null }>('{ tenant { saleorChannel } }');
          if (!tenant) return { error: 'The tenant has no shop channel.' };
          return gateway.query(
            `query($first: Int, $channel: String, $search: String) { products(first: $first, channel: $channel, search: $search) { totalCount edges { node {
              id name slug channel isAvailable category { name } pricing { priceRange { start { gross { amount currency } } } } } } } }`,
            { first: input.first ?? 20, channel: tenant.saleorChannel, search: input.search },
          );
        }),
    }),
  };
}

/**
 * A tool's answer, bounded, or what went wrong in words the model can act on. A cancelled run
 * still throws (the whole call stops); a refusal or an upstream failure is the tool's answer.
 */
async function answer(read: () => Promise<unknown>): Promise<unknown> {
  try {
    return bounded(await read());
  } catch (error) {
    if (isRunError(error) && error.code !== 'CANCELLED') {
      return { error: error.code === 'FORBIDDEN' ? 'Not allowed for this member.' : 'The data could not be read just now.' };
    }
    throw error;
  }
}

/**
 * `value` made to fit TOOL_RESULT_MAX_CHARS as JSON: long strings cut, then the longest list
 * halved until it fits (marked `truncated: true`); connection counts keep saying how many exist.
 */
export function bounded(value: unknown, maxChars = TOOL_RESULT_MAX_CHARS): unknown {
  const result = cutStrings(value);
  let truncated = false;
  while (JSON.stringify(result).length > maxChars) {
    const list = longestList(result);
    if (!list || list.length <= 1) return { truncated: true, excerpt: JSON.stringify(result).slice(0, maxChars - 100) };
    list.splice(Math.ceil(list.length / 2));
    truncated = true;
  }
  return truncated && result && typeof result === 'object' && !Array.isArray(result) ? { ...result, truncated: true } : result;
}

function cutStrings(value: unknown): unknown {
  if (typeof value === 'string') return value.length > STRING_MAX ? `${value.slice(0, STRING_MAX)}…` : value;
  if (Array.isArray(value)) return value.map(cutStrings);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cutStrings(v)]));
  return value;
}

function longestList(value: unknown): unknown[] | null {
  let best: unknown[] | null = null;
  const visit = (v: unknown) => {
    if (Array.isArray(v)) {
      if (!best || v.length > best.length) best = v;
      v.forEach(visit);
    } else if (v && typeof v === 'object') Object.values(v).forEach(visit);
  };
  visit(value);
  return best;
}
