import type { Tx } from '../kit/db/database.ts';
import { inputError } from '../kit/errors.ts';
import { isUuid, missingReferenceErrors, references, validateBlocks, type CmsInputError } from './blocks.ts';
import type { SnippetInput } from './__generated__/resolvers-types.ts';
import type { CmsContext } from './loaders.ts';
import { fail, ok, type Outcome } from './pages.ts';
import * as store from './store.ts';

// Snippets: reusable blocks (a footer, a banner) that pages refer to with snippet blocks.

const KEY = /^[a-z0-9][a-z0-9.-]{0,99}$/;

async function checked(input: SnippetInput, tx: Tx) {
  const errors: CmsInputError[] = [];
  const key = input.key.trim();
  if (!KEY.test(key)) errors.push(inputError('key', 'Use lower-case letters, digits, dashes and dots (at most 100).', 'INVALID'));
  const title = input.title.trim();
  if (!title) errors.push(inputError('title', 'A title is required.', 'REQUIRED'));
  else if (title.length > 255) errors.push(inputError('title', 'At most 255 characters.', 'INVALID'));
  const site = await store.currentSite(tx);
  const body = validateBlocks(input.body, { defaultChannel: site?.saleor_channel ?? null, allowSnippets: false });
  errors.push(...body.errors);
  if (!errors.length) {
    const refs = references(body.blocks);
    if (refs.assetIds.length) errors.push(...missingReferenceErrors(body.blocks, await store.existingReferences(tx, refs)));
  }
  return { errors, snippet: { key, title, body: body.blocks } };
}

export async function createSnippet(ctx: CmsContext, input: SnippetInput): Promise<Outcome<store.SnippetRow>> {
  return ctx.tx(async (tx) => {
    const { errors, snippet } = await checked(input, tx);
    if (errors.length) return { value: null, errors };
    const row = await store.insertSnippet(tx, snippet, ctx.principal.accountId);
    return row ? ok(row) : fail('key', `The key "${snippet.key}" is taken.`, 'UNIQUE');
  });
}

export async function updateSnippet(ctx: CmsContext, id: string, input: SnippetInput): Promise<Outcome<store.SnippetRow>> {
  if (!isUuid(id)) return fail('id', 'No such snippet.', 'NOT_FOUND');
  return ctx.tx(async (tx) => {
    const { errors, snippet } = await checked(input, tx);
    if (errors.length) return { value: null, errors };
    const row = await store.updateSnippet(tx, id, snippet, ctx.principal.accountId);
    if (row === 'missing') return fail('id', 'No such snippet.', 'NOT_FOUND');
    if (row === 'taken') return fail('key', `The key "${snippet.key}" is taken.`, 'UNIQUE');
    return ok(row);
  });
}

export async function deleteSnippet(ctx: CmsContext, id: string): Promise<Outcome<string>> {
  if (!isUuid(id)) return fail('id', 'No such snippet.', 'NOT_FOUND');
  const deleted = await ctx.tx((tx) => store.deleteSnippet(tx, id));
  return deleted ? ok(id) : fail('id', 'No such snippet.', 'NOT_FOUND');
}
