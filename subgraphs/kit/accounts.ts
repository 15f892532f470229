import type DataLoader from 'dataloader';
import type { FieldNode, GraphQLResolveInfo } from 'graphql';
import { CacheGenerations } from './cache.ts';
import { selectedFields } from './connection.ts';
import type { TxRunner } from './db/database.ts';
import { selectByKeys } from './db/select-by-keys.ts';
import type { Table } from './db/table.ts';
import { rowsById } from './loaders.ts';
import type { RedisClient } from './redis.ts';

/**
 * Accounts (auth's entity) as the other subgraphs hand them out: the `owner` of a lead, the
 * `author` of a page. Such a field is declared `owner: Account @provides(fields: "email")` over
 * `type Account @key(fields: "id") { id: ID! email: String! @external }`, so that the gateway
 * takes `owner { email }` from the subgraph's own answer instead of asking auth for every page
 * (one HTTP hop, a parse, a plan step and a transaction fewer per request).
 *
 * The email comes from auth's view `auth.account_emails` (security_invoker), in the caller's
 * tenant transaction: auth.accounts' row-level security decides which accounts exist, for this
 * subgraph exactly as for auth (the account itself and the members of the caller's tenant), and
 * the view shows none to a transaction without an account (a share link's, a public site's).
 * Emails never change; who may see one changes when a membership ends, and auth's removeMember
 * then bumps the cache generations of `SUBGRAPHS_PROVIDING_EMAILS` (`forgetAccountEmails`).
 */

export interface AccountEmailRow {
  id: string;
  email: string;
}

const ACCOUNT_EMAILS: Table = { name: 'auth.account_emails', columns: 'id, email' };
const accountEmailsByIds = selectByKeys<AccountEmailRow>(ACCOUNT_EMAILS, { key: 'id' });

/**
 * `table` also reading, as `as`, the email of the account whose id is in `column`: the loader's
 * view and row-level security, in the row's own statement, so a page of rows and their owners'
 * emails cost one transaction and one round trip to PostgreSQL, not two. For the reads pages show
 * most (a leads page, a content page); elsewhere the loader reads the emails.
 *
 *   if (asksForAccountEmail(info, ['edges', 'node', 'owner'])) table = withAccountEmail(table, 'owner_id', 'owner_email');
 */
export function withAccountEmail(table: Table, column: string, as: string): Table {
  return { name: table.name, columns: `${table.columns}, (SELECT e.email FROM ${ACCOUNT_EMAILS.name} e WHERE e.id = ${column}) AS ${as}` };
}

/** Whether the query asks for the email of the account at `path` below the field being resolved. */
export const asksForAccountEmail = (info: GraphQLResolveInfo, path: readonly string[]) => selectedFields(info, path).has('email');

/**
 * The subgraphs whose schemas `@provides(fields: "email")` on an Account (their cached answers can
 * hold emails); test/account-emails.test.ts checks the list against schema/.
 */
export const SUBGRAPHS_PROVIDING_EMAILS = ['agents', 'bi', 'cms', 'crm'] as const;

/**
 * After a membership ends, who may see that account's email has changed: the tenant's cached
 * answers in every subgraph that hands emails out become unreachable (their generations move).
 */
export async function forgetAccountEmails(redis: RedisClient, prefix: string, tenantId: string): Promise<void> {
  await Promise.all(SUBGRAPHS_PROVIDING_EMAILS.map((subgraph) => new CacheGenerations(redis, prefix, subgraph).bump(tenantId)));
}

/** The per-request loader `accountField` reads (as `loaders.accountEmail`): one statement per batch of owners. */
export const accountEmailLoader = (tx: TxRunner) => rowsById(tx, accountEmailsByIds, (row) => row.id);

// graphql-js hands every item of a list the same field nodes: decided once per list, not per row.
const asksForEmail = new WeakMap<readonly FieldNode[], boolean>();

/** What `accountField`'s resolvers need of a subgraph's context: its `accountEmailLoader`. */
interface WithAccountEmails {
  loaders: { accountEmail: DataLoader<string, AccountEmailRow | null> };
}

/**
 * The resolver of a field holding an account, whose id is in the row's `column`: `{ id }` when the
 * query asks nothing of it this subgraph provides, `{ id, email }` when it asks for `email`, and
 * null when there is no id or row-level security hides the account (an author no longer in the
 * tenant), as auth would. `read`: the row's column holding the email its own statement read
 * (`withAccountEmail`; null: hidden), used when present. An `email` under `@include(if: false)`
 * counts as asked (as in `selectedFields`): it costs a read, and a hidden account answers null.
 *
 *   owner: accountField('owner_id', 'owner_email'),
 */
export function accountField<C extends string, E extends string = never>(column: C, read?: E) {
  // Not async: a value returned as is keeps graphql-js on its synchronous path for the row (a
  // promise in any field of 50 rows costs 50 Promise.all-like joins and their microtasks).
  return (
    row: { [K in C]: string | null } & { [K in NoInfer<E>]?: string | null },
    _args: unknown,
    ctx: WithAccountEmails,
    info: GraphQLResolveInfo,
  ): { id: string; email?: string } | null | Promise<AccountEmailRow | null> => {
    const id = row[column];
    if (!id) return null;
    const email = read === undefined ? undefined : row[read];
    if (email !== undefined) return email === null ? null : { id, email };
    let asks = asksForEmail.get(info.fieldNodes);
    if (asks === undefined) {
      asks = asksForAccountEmail(info, []);
      asksForEmail.set(info.fieldNodes, asks);
    }
    return asks ? ctx.loaders.accountEmail.load(id) : { id };
  };
}
