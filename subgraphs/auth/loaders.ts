import type { Context } from '../kit/context.ts';
import { rowsById } from '../kit/loaders.ts';
import type { AuthSettings } from './settings.ts';
import * as store from './store.ts';

/** Per-request DataLoaders: every by-id read of the auth subgraph is one statement per batch. */
export function createLoaders(ctx: Pick<Context, 'tx'>) {
  return {
    tenant: rowsById(ctx.tx, store.tenantsByIds, (row) => row.id),
    account: rowsById(ctx.tx, store.accountsByIds, (row) => row.id),
    /** The membership of an account in the caller's tenant. */
    membership: rowsById(ctx.tx, store.membershipsByAccountIds, (row) => row.account_id),
  };
}

export type AuthLoaders = ReturnType<typeof createLoaders>;
export type AuthContext = Context<AuthLoaders, AuthSettings>;
