/**
 * A model's Markdown page as CMS blocks (cms's ContentBlockInput): the first `# ` line is the
 * title, `##`-`######` lines are headings, other runs of lines are paragraphs, lists and quotes
 * in the rich text the CMS accepts (p, ul, ol, li, blockquote, strong, em, code). Text is escaped
 * before any tag is added, so nothing the model writes becomes markup of its own; links keep their
 * text only. The small subset a page draft uses, not a Markdown implementation.
 */

export type BlockInput = { heading: { text: string; level: number } } | { paragraph: { html: string } };

export interface MarkdownPage {
  title: string;
  /** The title as a slug: lower-case letters, digits and dashes. */
  slug: string;
  /** The first paragraph as plain text (at most 300 characters): the page's meta description. */
  description: string | null;
  blocks: BlockInput[];
  /** The draft as the model wrote it, fences removed. */
  markdown: string;
}

const MAX_BLOCKS = 200;
const MAX_HTML = 20_000;
const MAX_HEADING = 255;

export function markdownPage(source: string): MarkdownPage {
  const markdown = source.replace(/^\s*```(?:markdown|md)?\s*\n([\s\S]*?)\n```\s*$/i, '$1').trim();
  const lines = markdown.split(/\r?\n/);
  let title = '';
  const blocks: BlockInput[] = [];
  let description: string | null = null;
  let run: string[] = [];

  const flush = () => {
    if (!run.length) return;
    const html = richText(run);
    if (html) {
      blocks.push({ paragraph: { html: html.slice(0, MAX_HTML) } });
      description ??= plain(run.join(' ')).slice(0, 300) || null;
    }
    run = [];
  };

  for (const line of lines) {
    const heading = /^(#{1,6})\s+(.*)$/.exec(line.trim());
    if (heading) {
      flush();
      const text = plain(heading[2]!).slice(0, MAX_HEADING);
      if (!text) continue;
      if (heading[1] === '#' && !title) title = text;
      else blocks.push({ heading: { text, level: Math.max(2, heading[1]!.length) } });
    } else if (!line.trim()) flush();
    else run.push(line.trim());
  }
  flush();
  if (!title) title = plain(lines.find((l) => l.trim()) ?? 'Draft').slice(0, 80) || 'Draft';
  return { title: title.slice(0, 255), slug: slugify(title), description, blocks: blocks.slice(0, MAX_BLOCKS), markdown };
}

export function slugify(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80)
    .replace(/-+$/, '');
}

/** One run of lines as rich text: a list, a quote or a paragraph. */
function richText(lines: string[]): string {
  if (lines.every((l) => /^[-*+]\s+/.test(l))) return `<ul>${lines.map((l) => `<li>${inline(l.replace(/^[-*+]\s+/, ''))}</li>`).join('')}</ul>`;
  if (lines.every((l) => /^\d+[.)]\s+/.test(l))) return `<ol>${lines.map((l) => `<li>${inline(l.replace(/^\d+[.)]\s+/, ''))}</li>`).join('')}</ol>`;
  if (lines.every((l) => l.startsWith('>'))) return `<blockquote>${inline(lines.map((l) => l.replace(/^>\s?/, '')).join(' '))}</blockquote>`;
  const text = inline(lines.join(' '));
  return text ? `<p>${text}</p>` : '';
}

/** Escaped text with **strong**, *em* / _em_ and `code`; a link keeps its text. */
function inline(text: string): string {
  return escape(text.replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1'))
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
    .replace(/__([^_]+)__/g, '<strong>$1</strong>')
    .replace(/(^|[^*\w])\*([^*\s][^*]*)\*(?!\*)/g, '$1<em>$2</em>')
    .replace(/(^|[^_\w])_([^_\s][^_]*)_(?!_)/g, '$1<em>$2</em>')
    .trim();
}

/** Markdown markers removed: the words only. */
function plain(text: string): string {
  return text
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/^\s*(#+|>+|[-+*]|\d+[.)])\s+/, '')
    .replace(/\*+|`+|(^|\W)_+|_+(?=\W|$)/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
