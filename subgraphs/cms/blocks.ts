import { randomUUID } from 'node:crypto';
import { inputError, type InputError } from '../kit/errors.ts';
import { isUuid, SALEOR_CHANNEL } from '../kit/formats.ts';
import type { CallToActionStyle, CmsErrorCode, ContentBlockInput, ProductReferenceInput } from './__generated__/resolvers-types.ts';

/*
 * Body blocks (Wagtail's StreamField): validated on write into the JSON stored in the database,
 * read back as the GraphQL block types. A bad block is a payload error naming
 * `body.<index>.<kind>.<field>`, never a half-written revision.
 */

export interface HeadingBlockData {
  type: 'heading';
  id: string;
  text: string;
  level: number;
}
export interface ParagraphBlockData {
  type: 'paragraph';
  id: string;
  html: string;
  text: string;
}
export interface ImageBlockData {
  type: 'image';
  id: string;
  assetId: string;
  caption: string | null;
  altText: string | null;
}
export interface ProductBlockData {
  type: 'product';
  id: string;
  productId: string;
  channel: string;
  caption: string | null;
}
export interface CallToActionBlockData {
  type: 'call_to_action';
  id: string;
  text: string;
  url: string;
  style: CallToActionStyle;
}
export interface QuoteBlockData {
  type: 'quote';
  id: string;
  text: string;
  attribution: string | null;
}
export interface EmbedBlockData {
  type: 'embed';
  id: string;
  url: string;
  title: string | null;
}
export interface SnippetBlockData {
  type: 'snippet';
  id: string;
  snippetId: string;
}

export type BlockData =
  | HeadingBlockData
  | ParagraphBlockData
  | ImageBlockData
  | ProductBlockData
  | CallToActionBlockData
  | QuoteBlockData
  | EmbedBlockData
  | SnippetBlockData;

/** A Saleor product reference as stored: the planner sends `{ __typename id channel }`. */
export interface ProductRef {
  id: string;
  channel: string;
}

export const MAX_BLOCKS = 200;
export const MAX_FEATURED_PRODUCTS = 50;
const MAX_TEXT = 2_000;
const MAX_HTML = 20_000;
const MAX_URL = 2_000;

const BLOCK_ID = /^[A-Za-z0-9_-]{1,64}$/;
const SALEOR_PRODUCT_ID = /^Product:\d{1,18}$/;

/** A Saleor product global ID: base64 of `Product:<pk>`. */
export function isSaleorProductId(id: string): boolean {
  if (id.length > 64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(id)) return false;
  return SALEOR_PRODUCT_ID.test(Buffer.from(id, 'base64').toString('utf8'));
}

// --- Rich text ---------------------------------------------------------------------------

const ALLOWED_TAGS = new Set(['p', 'br', 'strong', 'b', 'em', 'i', 'u', 's', 'a', 'ul', 'ol', 'li', 'blockquote', 'code']);
const VOID_TAGS = new Set(['br']);
const LINK_ATTRIBUTES = new Set(['href', 'title']);
const TAG = /^<(\/?)([a-zA-Z][a-zA-Z0-9]*)((?:\s+[a-zA-Z-]+="[^"<>]*")*)\s*(\/?)>/;
const ATTRIBUTE = /\s+([a-zA-Z-]+)="([^"<>]*)"/g;
/** Links to the web, mail, phone, or within the site; the value may use only `&amp;` as an entity. */
const SAFE_HREF = /^(https?:\/\/[^\s]+|mailto:[^\s]+|tel:[+\d][\d\s()-]*|\/[^\s]*|#[^\s]*)$/i;

/**
 * Rich text is a small HTML subset, checked rather than cleaned: anything outside it (other tags,
 * attributes, event handlers, `javascript:` links, unbalanced tags) is refused with a message,
 * so what is stored is exactly what the editor sent. A literal `<` is written `&lt;`.
 */
export function richTextProblem(html: string): string | null {
  const stack: string[] = [];
  let i = 0;
  while ((i = html.indexOf('<', i)) !== -1) {
    const match = TAG.exec(html.slice(i));
    if (!match) return `Unexpected "<" at character ${i + 1}: use an allowed tag, or write &lt;.`;
    const [whole, closing, rawName, attributes, selfClosing] = match;
    const name = rawName!.toLowerCase();
    if (!ALLOWED_TAGS.has(name)) return `The tag <${name}> is not allowed in rich text.`;
    if (closing) {
      if (attributes) return `A closing tag </${name}> cannot have attributes.`;
      if (stack.pop() !== name) return `</${name}> does not close the innermost open tag.`;
    } else {
      for (const [, attr, value] of attributes!.matchAll(ATTRIBUTE)) {
        const attribute = attr!.toLowerCase();
        if (name !== 'a' || !LINK_ATTRIBUTES.has(attribute)) return `The attribute "${attribute}" is not allowed on <${name}>.`;
        if (attribute === 'href') {
          const bare = value!.replace(/&amp;/g, '');
          if (bare.includes('&') || !SAFE_HREF.test(value!)) return `The link "${value}" is not allowed: use http(s), mailto, tel or a path.`;
        }
      }
      if (!VOID_TAGS.has(name) && !selfClosing) stack.push(name);
      else if (!VOID_TAGS.has(name)) return `<${name}/> cannot be self-closing.`;
    }
    i += whole!.length;
  }
  if (stack.length) return `<${stack.at(-1)}> is not closed.`;
  return null;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** The text of rich text, for search and plain renderings. */
export function richTextToText(html: string): string {
  return html
    .replace(/<br\s*\/?>|<\/(p|li|blockquote)>/gi, ' ')
    .replace(/<[^>]*>/g, '')
    .replace(/&(#\d{1,7}|#x[0-9a-f]{1,6}|[a-z]+);/gi, (entity, body: string) => {
      if (body[0] === '#') {
        const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
        return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '';
      }
      return ENTITIES[body.toLowerCase()] ?? entity;
    })
    .replace(/\s+/g, ' ')
    .trim();
}

// --- Validation --------------------------------------------------------------------------

export type CmsInputError = InputError<CmsErrorCode>;

interface BlockContext {
  /** Default channel of product references (the site's). */
  defaultChannel: string | null;
  /** Snippets cannot contain snippet blocks. */
  allowSnippets: boolean;
}

const KINDS = ['heading', 'paragraph', 'image', 'product', 'callToAction', 'quote', 'embed', 'snippet'] as const;

class Checker {
  errors: CmsInputError[] = [];
  constructor(private readonly prefix: string) {}
  fail(field: string, message: string, code: CmsErrorCode = 'INVALID_BLOCK') {
    this.errors.push(inputError(field ? `${this.prefix}.${field}` : this.prefix, message, code));
    return null;
  }
  text(field: string, value: string | null | undefined, { required = true, max = MAX_TEXT } = {}): string | null {
    const text = value?.trim() ?? '';
    if (!text) return required ? this.fail(field, 'Required.') : null;
    if (text.length > max) return this.fail(field, `At most ${max} characters.`);
    return text;
  }
}

function blockId(check: Checker, id: string | null | undefined, seen: Set<string>): string {
  if (id == null) return randomUUID();
  if (!BLOCK_ID.test(id)) return (check.fail('id', 'Block ids are 1 to 64 letters, digits, dashes or underscores.'), id);
  if (seen.has(id)) return (check.fail('id', 'Two blocks have the same id.'), id);
  return id;
}

function productChannel(check: Checker, field: string, channel: string | null | undefined, fallback: string | null) {
  const value = channel ?? fallback;
  if (!value) return check.fail(field, 'Name the Saleor channel: the site has no default channel.', 'REQUIRED');
  if (!SALEOR_CHANNEL.test(value)) return check.fail(field, 'Not a valid Saleor channel slug.');
  return value;
}

function optionalUrl(check: Checker, field: string, url: string, allowPath: boolean): string | null {
  const value = url.trim();
  if (value.length > MAX_URL) return check.fail(field, `At most ${MAX_URL} characters.`);
  if (allowPath && /^\/(?!\/)\S*$/.test(value)) return value;
  try {
    const parsed = new URL(value);
    const ok = allowPath ? ['http:', 'https:'].includes(parsed.protocol) : parsed.protocol === 'https:';
    if (ok) return value;
  } catch {
    /* reported below */
  }
  return check.fail(field, allowPath ? 'Use an http(s) URL or a path starting with "/".' : 'Use an https URL.');
}

/** Validates a body; returns the stored blocks, or the errors (with `field` paths). */
export function validateBlocks(
  input: readonly ContentBlockInput[],
  context: BlockContext,
  field = 'body',
): { blocks: BlockData[]; errors: CmsInputError[] } {
  const errors: CmsInputError[] = [];
  if (input.length > MAX_BLOCKS) {
    return { blocks: [], errors: [inputError(field, `At most ${MAX_BLOCKS} blocks.`, 'INVALID_BLOCK')] };
  }
  const seen = new Set<string>();
  const blocks: BlockData[] = [];
  input.forEach((block, index) => {
    const set = KINDS.filter((kind) => block[kind] != null);
    if (set.length !== 1) {
      errors.push(inputError(`${field}.${index}`, `Set exactly one of ${KINDS.join(', ')}.`, 'INVALID_BLOCK'));
      return;
    }
    const kind = set[0]!;
    const check = new Checker(`${field}.${index}.${kind}`);
    const stored = validateBlock(check, kind, block, context, seen);
    errors.push(...check.errors);
    if (stored && !check.errors.length) {
      seen.add(stored.id);
      blocks.push(stored);
    }
  });
  return { blocks, errors };
}

function validateBlock(
  check: Checker,
  kind: (typeof KINDS)[number],
  block: ContentBlockInput,
  context: BlockContext,
  seen: Set<string>,
): BlockData | null {
  switch (kind) {
    case 'heading': {
      const b = block.heading!;
      const level = b.level ?? 2;
      if (!Number.isInteger(level) || level < 2 || level > 6) check.fail('level', 'Heading levels are 2 to 6.');
      const text = check.text('text', b.text, { max: 255 });
      return text ? { type: 'heading', id: blockId(check, b.id, seen), text, level } : null;
    }
    case 'paragraph': {
      const b = block.paragraph!;
      const html = check.text('html', b.html, { max: MAX_HTML });
      if (!html) return null;
      const problem = richTextProblem(html);
      if (problem) return check.fail('html', problem);
      return { type: 'paragraph', id: blockId(check, b.id, seen), html, text: richTextToText(html) };
    }
    case 'image': {
      const b = block.image!;
      if (!isUuid(b.assetId)) return check.fail('assetId', 'Not a media asset id.');
      return {
        type: 'image',
        id: blockId(check, b.id, seen),
        assetId: b.assetId.toLowerCase(),
        caption: check.text('caption', b.caption, { required: false, max: 500 }),
        altText: check.text('altText', b.altText, { required: false, max: 500 }),
      };
    }
    case 'product': {
      const b = block.product!;
      if (!isSaleorProductId(b.productId)) return check.fail('productId', 'Not a Saleor product ID.');
      const channel = productChannel(check, 'channel', b.channel, context.defaultChannel);
      if (!channel) return null;
      return {
        type: 'product',
        id: blockId(check, b.id, seen),
        productId: b.productId,
        channel,
        caption: check.text('caption', b.caption, { required: false, max: 500 }),
      };
    }
    case 'callToAction': {
      const b = block.callToAction!;
      const text = check.text('text', b.text, { max: 255 });
      const url = optionalUrl(check, 'url', b.url, true);
      return text && url ? { type: 'call_to_action', id: blockId(check, b.id, seen), text, url, style: b.style ?? 'PRIMARY' } : null;
    }
    case 'quote': {
      const b = block.quote!;
      const text = check.text('text', b.text);
      const attribution = check.text('attribution', b.attribution, { required: false, max: 255 });
      return text ? { type: 'quote', id: blockId(check, b.id, seen), text, attribution } : null;
    }
    case 'embed': {
      const b = block.embed!;
      const url = optionalUrl(check, 'url', b.url, false);
      const title = check.text('title', b.title, { required: false, max: 255 });
      return url ? { type: 'embed', id: blockId(check, b.id, seen), url, title } : null;
    }
    case 'snippet': {
      const b = block.snippet!;
      if (!context.allowSnippets) return check.fail('', 'A snippet cannot contain snippet blocks.');
      if (!isUuid(b.snippetId)) return check.fail('snippetId', 'Not a snippet id.');
      return { type: 'snippet', id: blockId(check, b.id, seen), snippetId: b.snippetId.toLowerCase() };
    }
  }
}

/** Featured products: Saleor product IDs, each in a channel (the site's by default). */
export function validateProductRefs(
  input: readonly ProductReferenceInput[],
  defaultChannel: string | null,
  field = 'featuredProducts',
): { refs: ProductRef[]; errors: CmsInputError[] } {
  if (input.length > MAX_FEATURED_PRODUCTS) {
    return { refs: [], errors: [inputError(field, `At most ${MAX_FEATURED_PRODUCTS} products.`, 'INVALID')] };
  }
  const refs: ProductRef[] = [];
  const errors: CmsInputError[] = [];
  input.forEach((ref, index) => {
    const check = new Checker(`${field}.${index}`);
    if (!isSaleorProductId(ref.productId)) check.fail('productId', 'Not a Saleor product ID.', 'INVALID');
    const channel = productChannel(check, 'channel', ref.channel, defaultChannel);
    errors.push(...check.errors);
    if (!check.errors.length && channel) refs.push({ id: ref.productId, channel });
  });
  return { refs, errors };
}

/** Media assets and snippets the blocks refer to (checked to exist in the tenant before saving). */
export function references(blocks: readonly BlockData[]) {
  return {
    assetIds: [...new Set(blocks.flatMap((b) => (b.type === 'image' ? [b.assetId] : [])))],
    snippetIds: [...new Set(blocks.flatMap((b) => (b.type === 'snippet' ? [b.snippetId] : [])))],
  };
}

/** Errors for blocks whose asset or snippet does not exist (in this tenant). */
export function missingReferenceErrors(
  blocks: readonly BlockData[],
  found: { assetIds: ReadonlySet<string>; snippetIds: ReadonlySet<string> },
  field = 'body',
): CmsInputError[] {
  const errors: CmsInputError[] = [];
  blocks.forEach((block, index) => {
    if (block.type === 'image' && !found.assetIds.has(block.assetId)) {
      errors.push(inputError(`${field}.${index}.image.assetId`, 'No such media asset.', 'NOT_FOUND'));
    }
    if (block.type === 'snippet' && !found.snippetIds.has(block.snippetId)) {
      errors.push(inputError(`${field}.${index}.snippet.snippetId`, 'No such snippet.', 'NOT_FOUND'));
    }
  });
  return errors;
}

/** The searchable text of a body. */
export function blocksText(blocks: readonly BlockData[]): string {
  return blocks
    .map((b) => {
      switch (b.type) {
        case 'heading':
        case 'paragraph':
        case 'quote':
          return `${b.text} ${'attribution' in b ? (b.attribution ?? '') : ''}`;
        case 'call_to_action':
          return b.text;
        case 'image':
          return `${b.caption ?? ''} ${b.altText ?? ''}`;
        case 'product':
          return b.caption ?? '';
        case 'embed':
          return b.title ?? '';
        case 'snippet':
          return '';
      }
    })
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * A prefix query for to_tsquery('simple', ...): every word must match the start of a word
 * ("summ sal" finds "Summer Sale"). Only letters and digits reach the query syntax.
 */
export function prefixQuery(search: string): string | null {
  const words = search.toLowerCase().match(/[\p{L}\p{N}]+/gu)?.slice(0, 10) ?? [];
  return words.length ? words.map((w) => `${w.slice(0, 100)}:*`).join(' & ') : null;
}
