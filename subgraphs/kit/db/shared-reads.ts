import { tooManyStatements, type Database, type TenantScope, type Tx, type TxOptions, type TxRunner } from './database.ts';

interface QueuedRead {
  fn: (tx: Tx) => Promise<unknown>;
  statements: number;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * A request's `ctx.tx`: reads that declare their statements (TxOptions; DataLoader batches, list
 * pages) and start in the same tick share one transaction. GraphQL execution starts sibling
 * loaders together (a lead's converted contact and its converted deal, an owner and a stage), so
 * their batches leave in one write to PostgreSQL with one BEGIN and one COMMIT, instead of a
 * transaction, a pooled connection and a round trip each. Everything else runs as it asked.
 *
 * Each read gets its own result or error. A failing statement aborts the shared transaction, so
 * the reads queued after it in that transaction fail too (PostgreSQL's "current transaction is
 * aborted"); reads fail only on broken SQL or a lost connection, where that is the right outcome.
 */
export function sharedReads(db: Database, scope: TenantScope): TxRunner {
  let queued: QueuedRead[] | null = null;

  const flush = () => {
    const reads = queued!;
    queued = null;
    if (reads.length === 1) {
      const [read] = reads as [QueuedRead];
      db.withTenant(scope, read.fn, { statements: read.statements }).then(read.resolve, read.reject);
      return;
    }
    const statements = reads.reduce((sum, read) => sum + read.statements, 0);
    const outcomes = db.withTenant(scope, (tx) => Promise.allSettled(reads.map((read) => read.fn(limited(tx, read.statements)))), { statements });
    outcomes.then(
      (settled) => settled.forEach((outcome, i) => (outcome.status === 'fulfilled' ? reads[i]!.resolve(outcome.value) : reads[i]!.reject(outcome.reason))),
      (error: unknown) => reads.forEach((read) => read.reject(error)),
    );
  };

  return <T>(fn: (tx: Tx) => Promise<T>, options?: TxOptions): Promise<T> => {
    if (!options?.statements) return db.withTenant(scope, fn, options);
    const statements = options.statements;
    return new Promise<T>((resolve, reject) => {
      if (!queued) {
        queued = [];
        // DataLoader dispatches each loader's batch in its own process.nextTick callback, all
        // queued in the same microtask phase: a flush queued by the first runs after the others.
        process.nextTick(flush);
      }
      queued.push({ fn, statements, resolve: resolve as (value: unknown) => void, reject });
    });
  };
}

/** The shared transaction as one read sees it: no more statements than that read declared. */
function limited(tx: Tx, statements: number): Tx {
  let issued = 0;
  return {
    query(text, params) {
      if (++issued > statements) return Promise.reject(tooManyStatements(statements));
      return tx.query(text, params);
    },
  };
}
