import type { Tx } from '../kit/db/database.ts';
import { isUuid } from '../kit/formats.ts';
import { fail } from '../kit/mutations/outcome.ts';
import { InputProblems } from '../kit/mutations/problems.ts';
import { rejectAll } from '../kit/mutations/rejected.ts';
import { missingReferenceErrors, references, validateBlocks } from './blocks.ts';
import type { CmsErrorCode, SnippetInput } from './__generated__/resolvers-types.ts';
import type { CmsContext } from './loaders.ts';
import { reject, write, type Outcome } from './mutations.ts';
import * as store from './store.ts';

// Snippets: reusable blocks (a footer, a banner) that pages refer to with snippet blocks.

const KEY = /^[a-z0-9][a-z0-9.-]{0,99}$/;

/** The snippet of an input, checked (its key, title and blocks, and the assets they use); rejects with every problem. */
async function checked(input: SnippetInput, tx: Tx) {
  const problems = new InputProblems<CmsErrorCode>();
  const key = input.key.trim();
  if (!KEY.test(key)) problems.add('key', 'Use lower-case letters, digits, dashes and dots (at most 100).', 'INVALID');
  const title = input.title.trim();
  if (!title) problems.add('title', 'A title is required.', 'REQUIRED');
  else if (title.length > 255) problems.add('title', 'At most 255 characters.', 'INVALID');
  const site = await store.currentSite(tx);
  const body = validateBlocks(input.body, { defaultChannel: site?.saleor_channel ?? null, allowSnippets: false });
  problems.list.push(...body.errors);
  if (!problems.any) {
    const refs = references(body.blocks);
    if (refs.assetIds.length) problems.list.push(...missingReferenceErrors(body.blocks, await store.existingReferences(tx, refs)));
  }
  if (problems.any) rejectAll(problems.list);
  return { key, title, body: body.blocks };
}

const keyTaken = (key: string) => reject('key', `The key "${key}" is taken.`, 'UNIQUE');

export function createSnippet(ctx: CmsContext, input: SnippetInput): Promise<Outcome<store.SnippetRow>> {
  return write(ctx.tx, async (tx) => {
    const snippet = await checked(input, tx);
    return (await store.insertSnippet(tx, snippet, ctx.principal.accountId)) ?? keyTaken(snippet.key);
  });
}

export async function updateSnippet(ctx: CmsContext, id: string, input: SnippetInput): Promise<Outcome<store.SnippetRow>> {
  if (!isUuid(id)) return fail('id', 'No such snippet.', 'NOT_FOUND');
  return write(ctx.tx, async (tx) => {
    const snippet = await checked(input, tx);
    const row = await store.updateSnippet(tx, id, snippet, ctx.principal.accountId);
    if (row === 'missing') return reject('id', 'No such snippet.', 'NOT_FOUND');
    // The store looks for a clash before the row: the key of one of the tenant's snippets is not
    // "taken" by a write to a snippet that is not there (another tenant's id, or none).
    if (row === 'taken') return (await store.snippetsByIds(tx, [id])).length ? keyTaken(snippet.key) : reject('id', 'No such snippet.', 'NOT_FOUND');
    return row;
  });
}

export async function deleteSnippet(ctx: CmsContext, id: string): Promise<Outcome<string>> {
  if (!isUuid(id)) return fail('id', 'No such snippet.', 'NOT_FOUND');
  return write(ctx.tx, async (tx) => ((await store.deleteSnippet(tx, id)) ? id : reject('id', 'No such snippet.', 'NOT_FOUND')));
}
