import { rule } from 'graphql-shield';
import type { Context } from '../../kit/context.ts';
import { forbidden, inputError, unauthenticated, type InputError } from '../../kit/errors.ts';
import { backfillSaleorOrders, httpSaleorClient } from './backfill.ts';
import { latestSaleorBackfill, startSaleorBackfill, type BackfillRow } from './backfill-job.ts';
import { saleorApiUrl } from './settings.ts';

/*
 * `backfillSaleorOrders(channel)` (schema/bi.graphql): the backfill on demand. Platform
 * administrators only: the tenant written is the channel's, whoever calls (a cross-tenant act,
 * like createTenant), and Saleor is read with the App token, not the caller's token. It runs in
 * the request, so one call reads at most MAX_PAGES pages and answers the cursor it reached: the
 * caller calls again with it as `after` until it is null. `startSaleorBackfill` runs the whole
 * channel as a durable background job instead (backfill-job.ts), `saleorBackfill` reads its progress.
 */

export const isPlatformAdmin = rule('isPlatformAdmin', { cache: 'contextual' })((_parent: unknown, _args: unknown, ctx: Context) => {
  if (!ctx.principal.accountId) return unauthenticated();
  return ctx.principal.platformAdmin ? true : forbidden('Platform administrators only.');
});

/** 20 pages of 100: well within the gateway's subgraph timeout. */
const MAX_PAGES = 20;

export interface BackfillSaleorOrdersPayload {
  read: number;
  written: number;
  cursor: string | null;
  errors: InputError<'REQUIRED' | 'NOT_FOUND' | 'INVALID'>[];
}

const CHANNEL = /^[a-z0-9][a-z0-9_-]{0,99}$/;

/** What is wrong with a channel argument, if anything. */
function channelError(channel: string): InputError<'REQUIRED' | 'INVALID'> | null {
  if (!channel) return inputError('channel', 'A Saleor channel slug is required.', 'REQUIRED');
  if (!CHANNEL.test(channel)) return inputError('channel', 'Not a valid Saleor channel slug.', 'INVALID');
  return null;
}

const NO_TENANT = () => inputError('channel', 'No tenant (or more than one) has this Saleor channel.', 'NOT_FOUND');

export async function backfillSaleorOrdersResolver(_root: unknown, args: { channel: string; after?: string | null }, ctx: Context): Promise<BackfillSaleorOrdersPayload> {
  const none = { read: 0, written: 0, cursor: null };
  const invalid = channelError(args.channel);
  if (invalid) return { ...none, errors: [invalid] };
  const { deps } = ctx;
  const saleor = httpSaleorClient(saleorApiUrl(deps.config, deps.env), deps.config.SALEOR_APP_TOKEN);
  const result = await backfillSaleorOrders(deps, args.channel, saleor, { after: args.after ?? null, maxPages: MAX_PAGES });
  if (!result.tenantId) return { ...none, errors: [NO_TENANT()] };
  if (result.tenantId !== ctx.principal.tenantId) ctx.touchedTenants.add(result.tenantId);
  return { read: result.read, written: result.written, cursor: result.cursor, errors: [] };
}

export interface SaleorBackfillPayload {
  backfill: BackfillRow | null;
  errors: InputError<'REQUIRED' | 'NOT_FOUND' | 'INVALID'>[];
}

export async function startSaleorBackfillResolver(_root: unknown, args: { channel: string }, ctx: Context): Promise<SaleorBackfillPayload> {
  const invalid = channelError(args.channel);
  if (invalid) return { backfill: null, errors: [invalid] };
  const started = await startSaleorBackfill(ctx.deps, args.channel, ctx.principal.accountId);
  if (!started) return { backfill: null, errors: [NO_TENANT()] };
  return { backfill: started.backfill, errors: [] };
}

/** `saleorBackfill(channel)`: null for a channel without backfills, or of no tenant. */
export async function saleorBackfillResolver(_root: unknown, args: { channel: string }, ctx: Context): Promise<BackfillRow | null> {
  if (channelError(args.channel)) return null;
  return (await latestSaleorBackfill(ctx.deps, args.channel))?.backfill ?? null;
}

export const saleorBackfillFields = {
  createdAt: (row: BackfillRow) => row.created_at,
  updatedAt: (row: BackfillRow) => row.updated_at,
  finishedAt: (row: BackfillRow) => row.finished_at,
};
