import { rule } from 'graphql-shield';
import type { Context } from '../../kit/context.ts';
import { forbidden, inputError, unauthenticated, type InputError } from '../../kit/errors.ts';
import { backfillSaleorOrders, httpSaleorClient } from './backfill.ts';
import { saleorApiUrl } from './settings.ts';

/*
 * `backfillSaleorOrders(channel)` (schema/bi.graphql): the backfill on demand. Platform
 * administrators only: the tenant written is the channel's, whoever calls (a cross-tenant act,
 * like createTenant), and Saleor is read with the App token, not the caller's token. It runs in
 * the request, so one call reads at most MAX_PAGES pages and answers the cursor it reached: the
 * caller (or, later, a job) calls again with it as `after` until it is null.
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

export async function backfillSaleorOrdersResolver(_root: unknown, args: { channel: string; after?: string | null }, ctx: Context): Promise<BackfillSaleorOrdersPayload> {
  const none = { read: 0, written: 0, cursor: null };
  if (!args.channel) return { ...none, errors: [inputError('channel', 'A Saleor channel slug is required.', 'REQUIRED')] };
  if (!CHANNEL.test(args.channel)) return { ...none, errors: [inputError('channel', 'Not a valid Saleor channel slug.', 'INVALID')] };
  const { deps } = ctx;
  const saleor = httpSaleorClient(saleorApiUrl(deps.config, deps.env), deps.config.SALEOR_APP_TOKEN);
  const result = await backfillSaleorOrders(deps, args.channel, saleor, { after: args.after ?? null, maxPages: MAX_PAGES });
  if (!result.tenantId) return { ...none, errors: [inputError('channel', 'No tenant (or more than one) has this Saleor channel.', 'NOT_FOUND')] };
  if (result.tenantId !== ctx.principal.tenantId) ctx.touchedTenants.add(result.tenantId);
  return { read: result.read, written: result.written, cursor: result.cursor, errors: [] };
}
