import { createHash } from 'node:crypto';
import pg from 'pg';
import { APP_ROLE } from './roles.ts';
import './timestamps.ts';
import { isUuid } from '../formats.ts';
import type { DatabaseObserver } from '../metrics.ts';

export interface QueryResult<R> {
  rows: R[];
  rowCount: number | null;
}

/** What store functions receive: a client already inside the tenant transaction. */
export interface Tx {
  // Row shapes are declared by each store.
  query<R = any>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
}

/** How a caller describes its transaction to `withTenant`. */
export interface TxOptions {
  /**
   * The most statements the transaction runs, for a read that knows it (a DataLoader batch: one;
   * a list page: one, or two for a later page with its count). COMMIT then leaves in the same
   * write as the last of them instead of one round trip later: a one-statement transaction
   * becomes one write to PostgreSQL and one answer back, where it was two of each (on this VM
   * each wake-up of the other process costs about 0.1 ms of CPU). A statement past the declared
   * number fails. Not for writes: a statement's work would be committed before `fn` has seen its
   * result.
   * Such a read also need not wait for a free connection: when the pool has none, it follows a
   * transaction that has written its COMMIT on that one's connection (`follow`).
   */
  statements?: number;
}

/** The error of a statement past the number its transaction declared. */
export const tooManyStatements = (declared: number) => new Error(`a transaction declared to run ${declared} statement(s) ran more`);

/** A read of one statement (a DataLoader batch, a look-up): its COMMIT rides with it. */
export const ONE_STATEMENT: TxOptions = Object.freeze({ statements: 1 });

/** Runs `fn` in one tenant transaction (a request's `ctx.tx`, bound to its caller's scope). */
export type TxRunner = <T>(fn: (tx: Tx) => Promise<T>, options?: TxOptions) => Promise<T>;

export interface TenantScope {
  tenantId: string | null;
  accountId: string | null;
}

export interface DatabaseOptions {
  url: string;
  poolMax: number;
  /**
   * Switch to this role inside every transaction. Used on embedded PGlite, whose single session
   * is a superuser; on PostgreSQL the pool already connects as the app role.
   */
  assumeRole?: string;
  /** Told each transaction's wait for a connection and its duration (the subgraph's /metrics). */
  observer?: DatabaseObserver;
}

/**
 * Parameterised statements run as named prepared statements: PostgreSQL parses and plans each
 * text once per connection instead of on every call (planning was half the server time of a
 * leads page: 0.54 of 1.1 ms). The name is a hash of the text, so the same text always gets the same name and
 * two texts never share one. Texts seen past MAX_PREPARED run unnamed, so a code path that
 * builds unbounded SQL variants cannot grow every connection's statement cache without limit.
 * Row-level security still applies: PostgreSQL re-plans a cached plan when the role it was
 * planned for changes, and the tenant comes from current_setting(), evaluated at execution.
 */
const MAX_PREPARED = 2_000;
const statementNames = new Map<string, string>();
function statementName(text: string): string | undefined {
  let name = statementNames.get(text);
  if (name === undefined && statementNames.size < MAX_PREPARED) {
    name = `k${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
    statementNames.set(text, name);
  }
  return name;
}

interface Corkable {
  cork(): void;
  uncork(): void;
}

/** How a transaction ends: statements issued so far, the declared most, COMMIT once sent early. */
interface TxEnd {
  issued: number;
  limit: number | undefined;
  commit: Promise<unknown> | undefined;
  /** Called once COMMIT is written: the connection may take the next transaction's statements. */
  written(): void;
}

/**
 * A pooled connection this Database has checked out, and the transactions on it still waiting for
 * their answers. `writer` is the one transaction that may still write to it; null once that one
 * has written its COMMIT, when a read that declared its statements may follow it on the wire.
 */
interface Lane {
  client: pg.PoolClient;
  inFlight: number;
  writer: object | null;
  broken: Error | undefined;
}

/** The most transactions on one connection at once: how far a read may queue behind others there. */
export const MAX_PIPELINED = 8;

/** The client's socket, to batch writes (pg corks it the same way around an extended query). */
function corkable(client: pg.PoolClient): Corkable | null {
  const stream = (client as unknown as { connection?: { stream?: { cork?: unknown; uncork?: unknown } } }).connection?.stream;
  return stream && typeof stream.cork === 'function' && typeof stream.uncork === 'function'
    ? (stream as Corkable)
    : null;
}

/** Sends one statement of a transaction (a text, or a named prepared statement). */
type Send = (query: string | pg.QueryConfig, values?: unknown[]) => Promise<QueryResult<never>>;

/**
 * How a transaction's statements reach its client. Pipelined (PostgreSQL): at once, in order on
 * the wire. Otherwise (PGlite's socket server takes one message at a time) each after the one
 * before has settled: pg would queue them itself, but that queue is deprecated and goes in pg 9.
 */
function sender(client: pg.PoolClient, pipelined: boolean): Send {
  if (pipelined) return (query, values) => client.query(query as string, values) as unknown as Promise<QueryResult<never>>;
  let previous: Promise<unknown> = Promise.resolve();
  return (query, values) => {
    const sent = previous.then(() => client.query(query as string, values) as unknown as Promise<QueryResult<never>>);
    previous = sent.catch(() => undefined);
    return sent;
  };
}

export interface StatementListener {
  (text: string, values: readonly unknown[] | undefined): void;
}

/**
 * The only way to reach tenant data: every call runs in one transaction on one client, which
 * first sets `app.tenant_id` (and `app.account_id`) transaction-locally, so row-level security
 * filters every statement and nothing leaks into the next user of the pooled connection.
 */
export class Database {
  readonly pool: pg.Pool;
  private readonly assumeRole: string | undefined;
  /** PostgreSQL: statements are written without waiting for answers (not on PGlite). */
  private readonly pipelined: boolean;
  private readonly observer: DatabaseObserver | undefined;
  private readonly poolMax: number;
  private readonly lanes = new Set<Lane>();
  /** Transactions that followed another on its connection instead of waiting for one (tests read it). */
  pipelinedTransactions = 0;
  private readonly listeners = new Set<StatementListener>();
  /** Statements run by `withTenant` callers (excluding the transaction boilerplate). */
  statements = 0;

  constructor(options: DatabaseOptions) {
    this.pipelined = !options.assumeRole;
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolMax,
      // A new connection costs a backend fork, authentication and cold catalog and plan caches
      // (its first queries take milliseconds longer); closing idle ones after 30 s made the pool
      // shrink and re-grow under steady load (it hands out the most recently used connection, so
      // the others sit idle), and the re-growth showed as latency spikes. Keep them 10 minutes.
      idleTimeoutMillis: 600_000,
      connectionTimeoutMillis: 5_000,
      application_name: 'bizosaas',
      // Pipelining (pg 8.23): a query is written without waiting for the answer to the one
      // before, so a transaction's BEGIN and its first statement travel together (withTenant).
      // PGlite's socket server takes one message at a time: not there.
      pipeline: this.pipelined,
    } as pg.PoolConfig);
    // An idle client that dies (server restart) must not crash the process.
    this.pool.on('error', () => {});
    this.assumeRole = options.assumeRole;
    this.observer = options.observer;
    this.poolMax = options.poolMax;
  }

  /** Observe every statement run inside `withTenant` (tests count them). */
  onStatement(listener: StatementListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async withTenant<T>(scope: TenantScope, fn: (tx: Tx) => Promise<T>, options?: TxOptions): Promise<T> {
    // The ids come from a verified token; they are still checked before being inlined, so the
    // transaction opens with one simple query (BEGIN + SELECT) and no parameters.
    const tenant = scope.tenantId && isUuid(scope.tenantId) ? scope.tenantId : '';
    const account = scope.accountId && isUuid(scope.accountId) ? scope.accountId : '';
    const role = this.assumeRole ? `, set_config('role', '${this.assumeRole}', true)` : '';
    // A read that declares its statements writes BEGIN to COMMIT at once, so with every
    // connection out it may follow another transaction on its connection (pipelined, PostgreSQL
    // runs them one after the other) instead of queueing for a free one.
    const me = {};
    const requested = performance.now();
    const lane = (options?.statements && this.pipelined && this.follow(me)) || (await this.checkOut(me));
    const { client } = lane;
    const connected = performance.now();
    this.observer?.poolWait((connected - requested) / 1000);
    const send = sender(client, this.pipelined);
    // BEGIN is not awaited before `fn` runs: with pipelining, it and the statement `fn` issues
    // first leave in one write (the socket is corked while `fn` starts) and their answers come
    // back together, one round trip instead of two (a third of a one-statement transaction's
    // cost in the subgraph and in PostgreSQL). Each statement still waits for BEGIN's answer, so
    // a failed BEGIN fails every statement; PostgreSQL runs them in order, inside the transaction.
    const socket = corkable(client);
    socket?.cork();
    const begin = send(
      `BEGIN; SELECT set_config('app.tenant_id', '${tenant}', true), set_config('app.account_id', '${account}', true)${role}`,
    );
    begin.catch(() => undefined); // awaited below; this only keeps an early failure from being "unhandled"
    const written = () => {
      if (lane.writer === me) lane.writer = null;
    };
    const end: TxEnd = { issued: 0, limit: options?.statements, commit: undefined, written };
    try {
      let running: Promise<T>;
      try {
        running = fn(this.txOn(send, begin, socket, end));
      } finally {
        socket?.uncork();
      }
      const result = await running;
      await begin;
      await (end.commit ?? send('COMMIT'));
      this.observer?.transaction((performance.now() - connected) / 1000, 'commit');
      return result;
    } catch (error) {
      // A COMMIT already written ends the transaction either way (after a failed statement
      // PostgreSQL answers it with a rollback); a ROLLBACK sent after it could end the next
      // transaction on the connection. A COMMIT or ROLLBACK that fails means the connection is gone.
      await (end.commit ?? send('ROLLBACK')).catch((closing: Error) => {
        lane.broken ??= closing;
      });
      this.observer?.transaction((performance.now() - connected) / 1000, 'rollback');
      throw error;
    } finally {
      written();
      if (--lane.inFlight === 0) {
        this.lanes.delete(lane);
        client.release(lane.broken);
      }
    }
  }

  /** A connection of the pool, this transaction its only one and its writer. */
  private async checkOut(me: object): Promise<Lane> {
    const client = await this.pool.connect();
    const lane: Lane = { client, inFlight: 1, writer: me, broken: undefined };
    this.lanes.add(lane);
    return lane;
  }

  /**
   * A checked-out connection this transaction may follow on: only when the pool has no idle one,
   * cannot open one, and nobody queues for one (a queued transaction, a write say, gets the next
   * connection whose transactions drain, so followers cannot starve it); of those whose writer
   * has written its COMMIT, the one with the fewest transactions, below MAX_PIPELINED.
   */
  private follow(me: object): Lane | undefined {
    const pool = this.pool;
    if (pool.idleCount > 0 || pool.waitingCount > 0 || pool.totalCount < this.poolMax) return undefined;
    let best: Lane | undefined;
    for (const lane of this.lanes) {
      if (lane.writer || lane.broken || lane.inFlight >= MAX_PIPELINED) continue;
      if (!best || lane.inFlight < best.inFlight) best = lane;
    }
    if (!best) return undefined;
    best.writer = me;
    best.inFlight++;
    this.pipelinedTransactions++;
    return best;
  }

  /**
   * The statements of one transaction: prepared where parameterised, each after BEGIN succeeded;
   * the last one declared (TxOptions.statements) takes COMMIT with it.
   */
  private txOn(send: Send, begin: Promise<unknown>, socket: Corkable | null, end: TxEnd): Tx {
    return {
      query: async (text, params) => {
        if (end.limit !== undefined && end.issued >= end.limit) {
          throw tooManyStatements(end.limit);
        }
        end.issued++;
        this.statements++;
        for (const listener of this.listeners) listener(text, params);
        const values = params as unknown[] | undefined;
        // Only parameterised statements: a text without parameters may hold several statements,
        // which the simple protocol allows and a prepared statement does not.
        const name = values ? statementName(text) : undefined;
        const last = end.issued === end.limit;
        if (last) socket?.cork();
        const pending = name ? send({ name, text, values }) : send(text, values);
        pending.catch(() => undefined); // surfaced below, unless BEGIN's error is
        if (last) {
          // After a failed statement PostgreSQL answers this COMMIT with a rollback, not an error.
          end.commit = send('COMMIT');
          end.commit.catch(() => undefined); // awaited by withTenant
          socket?.uncork();
          end.written();
        }
        await begin;
        return pending;
      },
    };
  }

  /** Health probe: a trivial round trip. */
  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

export { APP_ROLE };
