import { z } from 'zod';
import type { AgentKindDefinition, AnalystContext, AnalystResult } from '../analysts/types.ts';
import { RunError } from '../run-error.ts';
import { markdownPage } from './markdown.ts';

/**
 * The writer: drafts a content page or an email from the run's brief with the configured model,
 * which may read the tenant's leads, pipeline, pages and products through the run's gateway
 * tools. A PAGE is saved in the CMS as a DRAFT through cms's own mutation at the gateway (so only
 * a member who may create pages gets one), and the insight is about that page; an EMAIL is the
 * insight's body. Without a model the run fails MODEL_REQUIRED, not retried.
 */
export const BRIEF_MAX = 4_000;
const EDITING_ROLES = new Set(['OWNER', 'ADMIN', 'EDITOR']);

const writerSettings = z.object({
  /** The page new drafts go under; unset: top level. */
  parentId: z.uuid().optional(),
});

const PAGE_SYSTEM = [
  'You write web pages for a small business, in Markdown.',
  'Start with one "# " line: the page title (at most 80 characters). Then a one or two sentence introduction,',
  'then sections with "## " headings, short paragraphs and "- " lists. No images, no HTML, no code blocks.',
  "Use the tools to look up the business's real products, pages, leads or pipeline when the brief needs facts; never invent prices or names.",
].join(' ');

const EMAIL_SYSTEM = [
  'You write business emails in plain Markdown.',
  'Start with one line "Subject: ..." then a blank line, then the email with a greeting and a sign-off.',
  "Use the tools to look up the business's real products, pages, leads or pipeline when the brief needs facts; never invent prices or names.",
].join(' ');

const CREATE_PAGE = `mutation($input: ContentPageCreateInput!) {
  createContentPage(input: $input) { contentPage { id urlPath status title } errors { field message code } }
}`;
const PAGE_BY_SLUG = `query($filter: ContentPageFilterInput) { contentPages(first: 1, filter: $filter) { edges { node { id urlPath status title } } } }`;

type SavedPage = { id: string; urlPath: string; status: string; title: string };

export const writerAgent: AgentKindDefinition = {
  kind: 'WRITER',
  description: 'Drafts a page (saved in the CMS as a draft) or an email from a brief. Needs a language model.',
  needsModel: true,
  settings: writerSettings,
  async run(ctx) {
    const model = ctx.model;
    if (!model) throw new RunError('MODEL_REQUIRED', 'The writer needs a language model: one must be configured (LLM_BASE_URL and LLM_MODEL).', false);
    const brief = ctx.input.brief?.trim() ?? '';
    if (!brief || brief.length > BRIEF_MAX) throw new RunError('INVALID_SETTINGS', `The writer needs a brief of 1 to ${BRIEF_MAX.toLocaleString('en-US')} characters.`, false);
    return ctx.input.draft === 'EMAIL' ? draftEmail(ctx, brief) : draftPage(ctx, brief);
  },
};

async function draftPage(ctx: AnalystContext, brief: string): Promise<AnalystResult> {
  // Checked first so a member who cannot save a page spends no tokens (the CMS decides again on save).
  const { viewer } = await ctx.gateway.query<{ viewer: { roles: string[] } | null }>('{ viewer { roles } }');
  if (!viewer?.roles.some((role) => EDITING_ROLES.has(role))) {
    throw new RunError('FORBIDDEN', 'Only owners, admins and editors can save a draft page, and the member this run acts as is none of them.', false);
  }
  await ctx.progress(10, 'Drafting the page');
  const { text, usage } = await ctx.model!.generate({ system: PAGE_SYSTEM, prompt: `Brief:\n${brief}`, tools: true, maxOutputTokens: 4_000, progress: 40 });
  const page = markdownPage(text);

  await ctx.progress(85, 'Saving the draft page');
  const parentId = (ctx.settings as z.infer<typeof writerSettings>).parentId ?? null;
  // The run id in the slug: a retried attempt finds the page it saved instead of saving another.
  const slug = `${page.slug.slice(0, 80)}-${ctx.runId.slice(0, 8)}`.replace(/^-+/, '');
  const saved = await savePage(ctx, { parentId, slug, title: page.title, seoDescription: page.description, body: page.blocks });

  return {
    insights: [
      {
        kind: 'draft_page',
        severity: 'info',
        title: `Draft page: ${saved.title}`.slice(0, 200),
        body: `A draft page was saved in the CMS at \`${saved.urlPath}\` (${saved.status.toLowerCase()}, not published).\n\n${page.markdown}`.slice(0, 20_000),
        subject: { type: 'ContentPage', id: saved.id },
        evidence: { draft: 'PAGE', pageId: saved.id, urlPath: saved.urlPath, blocks: page.blocks.length, words: words(page.markdown), model: ctx.model!.name, ...usage },
      },
    ],
  };
}

async function savePage(ctx: AnalystContext, input: Record<string, unknown> & { slug: string; parentId: string | null }): Promise<SavedPage> {
  const { createContentPage: payload } = await ctx.gateway.query<{
    createContentPage: { contentPage: SavedPage | null; errors: { field: string | null; message: string; code: string }[] } | null;
  }>(CREATE_PAGE, { input });
  if (payload?.contentPage) return payload.contentPage;
  const errors = payload?.errors ?? [];
  if (errors.some((e) => e.code === 'UNIQUE' && e.field === 'slug')) {
    const filter = input.parentId ? { slug: input.slug, parentId: input.parentId } : { slug: input.slug, topLevel: true };
    const { contentPages } = await ctx.gateway.query<{ contentPages: { edges: { node: SavedPage }[] } | null }>(PAGE_BY_SLUG, { filter });
    const existing = contentPages?.edges[0]?.node;
    if (existing) return existing;
  }
  const first = errors[0];
  throw new RunError('MODEL_ERROR', `The CMS refused the draft${first ? ` (${first.field ?? 'page'}: ${first.message})` : ''}.`);
}

async function draftEmail(ctx: AnalystContext, brief: string): Promise<AnalystResult> {
  await ctx.progress(10, 'Drafting the email');
  const { text, usage } = await ctx.model!.generate({ system: EMAIL_SYSTEM, prompt: `Brief:\n${brief}`, tools: true, maxOutputTokens: 2_000, progress: 50 });
  const email = text.trim();
  const subject = /^\s*\**subject:?\**:?\s*(.+)$/im.exec(email)?.[1]?.trim() ?? email.split('\n')[0]!.slice(0, 120);
  return {
    insights: [
      {
        kind: 'draft_email',
        severity: 'info',
        title: `Draft email: ${subject}`.slice(0, 200),
        body: email.slice(0, 20_000),
        evidence: { draft: 'EMAIL', subject, words: words(email), model: ctx.model!.name, ...usage },
      },
    ],
  };
}

const words = (text: string) => text.split(/\s+/).filter(Boolean).length;
