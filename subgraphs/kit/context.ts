import type { Logger } from './logger.ts';
import type { Principal } from './principal.ts';
import type { TxRunner } from './db/database.ts';
import type { SubgraphDeps } from './deps.ts';

/**
 * The per-request context every resolver receives. `tx` is the only path to tenant data: it runs
 * its callback in a transaction scoped to the caller's tenant (row-level security applies).
 */
export interface Context<TLoaders = unknown, TSettings = unknown> {
  principal: Principal;
  requestId: string;
  clientIp: string;
  /** The raw Authorization header (the Saleor stand-in checks its App token with it). */
  authorization: string | undefined;
  log: Logger;
  /** The process's deps with this subgraph's own `settings`. */
  deps: SubgraphDeps<TSettings>;
  tx: TxRunner;
  loaders: TLoaders;
  /** Set by the response cache: the tenant's generation, or null when Redis is unreachable. */
  cacheGeneration?: string | null;
  /** Tenants other than the caller's whose cached data a mutation changed. */
  touchedTenants: Set<string>;
}
