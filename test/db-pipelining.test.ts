import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import auth from '../subgraphs/auth/index.ts';
import crm from '../subgraphs/crm/index.ts';
import { DEMO_TENANTS } from '../subgraphs/auth/seed.ts';
import { DEMO_SIZES } from '../subgraphs/crm/seed.ts';
import { Database, MAX_PIPELINED, ONE_STATEMENT, type Tx } from '../subgraphs/kit/db/database.ts';
import { startSubgraphs, type RunningSubgraphs } from './support/stack.ts';

/**
 * Reads that declare their statements may follow another transaction on its connection when the
 * pool has none free (kit/db/database.ts). On PostgreSQL that happens; on embedded PGlite (no
 * pipelining) it never does, and everything else here must hold either way.
 */
let stack: RunningSubgraphs;
let db: Database;
let pipelined: boolean;
const [acme, globex] = [DEMO_TENANTS[0].id, DEMO_TENANTS[1].id];

beforeAll(async () => {
  stack = await startSubgraphs([auth, crm]);
  const url = stack.backends.config.DATABASE_URL;
  pipelined = Boolean(url);
  // One connection, so that a second transaction either follows the first or waits for it.
  db = url ? new Database({ url, poolMax: 1 }) : stack.backends.db;
  // Its connection open and its statements prepared: each test's slow read takes it at once.
  await leadsOf(acme);
});
afterAll(async () => {
  if (db !== stack?.backends.db) await db?.close();
  await stack?.close();
});

const scope = (tenantId: string) => ({ tenantId, accountId: null });

/** The leads this tenant's transaction sees: how many, and whose. */
const leadsOf = (tenantId: string, delaySeconds = 0) =>
  db.withTenant(
    scope(tenantId),
    async (tx) =>
      (await tx.query<{ n: number; tenants: string[] }>(
        'SELECT count(*)::int AS n, array_agg(DISTINCT tenant_id::text) AS tenants, pg_sleep($1) IS NULL AS slept FROM crm.leads',
        [delaySeconds],
      )).rows[0]!,
    ONE_STATEMENT,
  );

/**
 * How long the slow transaction holds the one connection: the reads under test must be issued
 * while it does, which a stall of a busy host can delay by a second or more.
 */
const HOLD_SECONDS = 1.5;

/** Waits until the pool's one connection is out (the slow transaction holds it, its COMMIT written). */
async function connectionTaken() {
  for (let i = 0; i < 200 && !(db.pool.totalCount === 1 && db.pool.idleCount === 0); i++) await sleep(5);
  await sleep(20);
}

describe('reads that follow another transaction on its connection', () => {
  it('see only their own tenant, whatever ran before them on the connection', async () => {
    const before = db.pipelinedTransactions;
    const slow = leadsOf(acme, HOLD_SECONDS);
    await connectionTaken();
    const reads = Array.from({ length: 6 }, (_, i) => leadsOf(i % 2 ? globex : acme));
    const results = await Promise.all([slow, ...reads]);
    results.forEach((result, i) => {
      const tenant = i === 0 || i % 2 === 1 ? acme : globex;
      expect(result.tenants).toEqual([tenant]);
      expect(result.n).toBe(tenant === acme ? DEMO_SIZES.acme!.leads : DEMO_SIZES.globex!.leads);
    });
    expect(db.pipelinedTransactions - before).toBe(pipelined ? 6 : 0);
    expect(db.pool.totalCount).toBeLessThanOrEqual(1);
  });

  it('a failing read fails alone: the reads after it on the connection get their answers', async () => {
    const slow = leadsOf(acme, HOLD_SECONDS);
    await connectionTaken();
    const broken = db.withTenant(scope(acme), (tx) => tx.query('SELECT no_such_column FROM crm.leads WHERE id = $1', [acme]), ONE_STATEMENT);
    const after = leadsOf(globex);
    await expect(broken).rejects.toThrow(/no_such_column/);
    expect((await after).tenants).toEqual([globex]);
    expect((await slow).tenants).toEqual([acme]);
    // The connection is still good (nothing was left open on it): it serves the next one.
    expect((await leadsOf(acme)).n).toBe(DEMO_SIZES.acme!.leads);
  });

  it('a failing read sends nothing after its COMMIT: a transaction still writing on the connection keeps its tenant', async () => {
    const slow = leadsOf(acme, HOLD_SECONDS);
    await connectionTaken();
    const broken = db.withTenant(scope(acme), (tx) => tx.query('SELECT no_such_column FROM crm.leads WHERE id = $1', [acme]), ONE_STATEMENT);
    // Two statements, the second written only after the first's answer, which comes after the
    // failed read's error: a ROLLBACK sent on that error would land between them.
    const tenantSeen = (tx: Tx) =>
      tx.query<{ t: string }>("SELECT current_setting('app.tenant_id') AS t").then((r) => r.rows[0]!.t);
    const twoStep = db.withTenant(scope(globex), async (tx) => [await tenantSeen(tx), await tenantSeen(tx)], { statements: 2 });
    await expect(broken).rejects.toThrow(/no_such_column/);
    expect(await twoStep).toEqual([globex, globex]);
    await slow;
  });

  it('a transaction that did not declare its statements (a write) never follows, and reads queued after it do not overtake it', async () => {
    const before = db.pipelinedTransactions;
    const order: string[] = [];
    const slow = leadsOf(acme, HOLD_SECONDS).then(() => order.push('slow'));
    await connectionTaken();
    const write = db.withTenant(scope(acme), (tx) => tx.query('SELECT 1')).then(() => order.push('write'));
    await sleep(20);
    const read = leadsOf(globex).then(() => order.push('read'));
    await Promise.all([slow, write, read]);
    expect(order).toEqual(['slow', 'write', 'read']);
    expect(db.pipelinedTransactions).toBe(before);
  });

  it(`at most ${MAX_PIPELINED} transactions share a connection; the rest wait for it`, async () => {
    const before = db.pipelinedTransactions;
    const slow = leadsOf(acme, HOLD_SECONDS);
    await connectionTaken();
    const reads = Array.from({ length: MAX_PIPELINED + 3 }, () => leadsOf(globex));
    for (const result of await Promise.all(reads)) expect(result.tenants).toEqual([globex]);
    await slow;
    expect(db.pipelinedTransactions - before).toBe(pipelined ? MAX_PIPELINED - 1 : 0);
  });
});
