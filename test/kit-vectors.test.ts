import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tx } from '../subgraphs/kit/db/database.ts';
import { OWNER_ROLE } from '../subgraphs/kit/db/roles.ts';
import { describeVectorColumn, type VectorColumn } from '../subgraphs/kit/vectors/column.ts';
import { cosine } from '../subgraphs/kit/vectors/embedder.ts';
import { HashEmbedder, LOCAL_HASH_DIMENSIONS, LOCAL_HASH_MODEL, words } from '../subgraphs/kit/vectors/hash-embedder.ts';
import { nearest, nearestQuery, searchText } from '../subgraphs/kit/vectors/search.ts';
import { embeddingValues } from '../subgraphs/kit/vectors/write.ts';
import { createTestBackends, type TestBackends } from './support/deps.ts';
import { postgresReachable } from './support/services.ts';

/*
 * The shared similarity-search layer (subgraphs/kit/vectors, kit/migrations/002_vectors.sql):
 * the local hashing embedder, and storage and search on both storages kit.vector_column chooses
 * at migration time: PostgreSQL without pgvector (this machine's 15: real[] and exact cosine)
 * and embedded PGlite with @electric-sql/pglite-pgvector (vector, hnsw). Same data, same ranking.
 */

const embedder = new HashEmbedder();

/** Pages of distinct subjects; the near-duplicate of `seo` below must find it first. */
const PAGES: Record<string, string> = {
  seo: 'Search engine optimisation for local businesses: how to choose keywords, write meta descriptions and title tags, earn backlinks from local directories and measure organic traffic in Google Search Console.',
  email: 'Email marketing campaigns that convert: segment your subscriber list, write subject lines people open, test send times, and track click-through and unsubscribe rates for every newsletter.',
  pricing: 'Our pricing plans: the Starter plan for freelancers, the Agency plan with unlimited client workspaces, and Enterprise with single sign-on, audit logs and a dedicated account manager.',
  hiring: 'We are hiring a senior backend engineer to build our GraphQL federation platform in TypeScript and PostgreSQL; remote within Europe, competitive salary and equity.',
  coffee: 'Brewing pour-over coffee at home: grind 15 grams of beans medium-fine, rinse the paper filter, bloom with twice the weight in water for thirty seconds, then pour slowly in circles.',
  football: 'Match report: the home side equalised in stoppage time after a corner kick, the goalkeeper saved a penalty in the first half, and the striker was sent off for a second yellow card.',
  social: 'Social media calendar for agencies: plan Instagram reels, LinkedIn carousels and TikTok videos a month ahead, reuse content across channels and report engagement to clients weekly.',
  cafe: 'Le café de la plage: crêpes, pâtisseries et café crème face à la mer, ouvert tous les jours de juin à septembre.',
};

const NEAR_SEO =
  'Search engine optimization for local businesses: choosing keywords, writing meta descriptions and title tags, earning backlinks from local directories, and measuring organic traffic with Google Search Console.';

/**
 * Deterministic filler pages: random words of an agency's vocabulary and of the pages above, so
 * the pages have neighbours of some likeness, as a tenant's pages do.
 */
function fillerPages(count: number, seed: number): string[] {
  const vocabulary = [
    ...(
      'account agency analytics audience banner brand budget campaign channel checkout client content conversion customer dashboard ' +
      'design discount funnel growth invoice landing lead market media mobile newsletter offer order partner pipeline platform ' +
      'product profile project quote report retention revenue sales schedule segment service shop store strategy subscription ' +
      'support team template tenant traffic trial update video visitor website workflow'
    ).split(' '),
    ...new Set(Object.values(PAGES).flatMap(words)),
  ];
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: count }, () => Array.from({ length: 40 }, () => vocabulary[Math.floor(random() * vocabulary.length)]).join(' '));
}

describe('the local hashing embedder', () => {
  it('is deterministic, unit length, and folds case and accents', async () => {
    const [a, b, c, empty] = await embedder.embed(['Café Crème', 'cafe creme', 'CAFÉ CRÈME', '  ']);
    expect(embedder.model).toBe(LOCAL_HASH_MODEL);
    expect(a).toHaveLength(LOCAL_HASH_DIMENSIONS);
    expect(Array.from(a!)).toEqual(Array.from(b!));
    expect(Array.from(a!)).toEqual(Array.from(c!));
    expect(Math.hypot(...a!)).toBeCloseTo(1, 5);
    expect(empty!.every((x) => x === 0)).toBe(true);
    // The same text gives the same vector in another instance (nothing random, nothing cached).
    expect(Array.from(new HashEmbedder().embedOne(PAGES.seo!))).toEqual(Array.from(embedder.embedOne(PAGES.seo!)));
    // Another dimension is another model name: its vectors are never compared with these.
    expect(new HashEmbedder({ dimensions: 256 }).model).toBe('local-hash-v1-256');
  });

  it('scores near-duplicates far above unrelated texts', async () => {
    const vectors = await embedder.embed(Object.values(PAGES));
    const byName = Object.fromEntries(Object.keys(PAGES).map((name, i) => [name, vectors[i]!]));
    const near = embedder.embedOne(NEAR_SEO);
    const nearScore = cosine(near, byName.seo!);
    const unrelated = Object.keys(PAGES)
      .filter((name) => name !== 'seo')
      .map((name) => cosine(near, byName[name]!));
    expect(nearScore).toBeGreaterThan(0.75);
    expect(Math.max(...unrelated)).toBeLessThan(0.35);
    // Every pair of different subjects stays low.
    for (const [i, x] of vectors.entries()) for (const y of vectors.slice(i + 1)) expect(cosine(x, y)).toBeLessThan(0.35);
    // A typo and a changed word keep a short text close (character n-grams), an unrelated one not.
    expect(cosine(embedder.embedOne('quarterly revenue report for the agency'), embedder.embedOne('quartely revenue reports for our agency'))).toBeGreaterThan(0.6);
    console.log(`embedder: near-duplicate ${nearScore.toFixed(3)}, unrelated at most ${Math.max(...unrelated).toFixed(3)}`);
  });

  it('is fast: microseconds per kilobyte of text', () => {
    const base = Object.values(PAGES).join(' ');
    const texts = Array.from({ length: 64 }, (_, i) => `${i} ${base}`.repeat(2).slice(0, 1024));
    for (const text of texts) new HashEmbedder().embedOne(text); // warm up the JIT
    const rounds = 20;
    const time = (embed: (text: string) => unknown) => {
      const start = performance.now();
      for (let r = 0; r < rounds; r++) for (const text of texts) embed(text);
      return ((performance.now() - start) * 1000) / (rounds * texts.length);
    };
    // Cold: a new embedder for every text (no word cached); warm: one embedder, its words known.
    const cold = time((text) => new HashEmbedder().embedOne(text));
    const warm = time((text) => embedder.embedOne(text));
    console.log(`embedder: ${cold.toFixed(1)} µs (cold) / ${warm.toFixed(1)} µs (warm) per 1 KB text, ${LOCAL_HASH_DIMENSIONS} dimensions`);
    // Generous for a loaded CI machine; the point is "no model, no network, well under a millisecond".
    expect(cold).toBeLessThan(5_000);
    expect(warm).toBeLessThan(2_000);
  });
});

/** The test subgraph's migration: a tenant table with a vector column added by the kit. */
function pagesMigrations() {
  const dir = mkdtempSync(join(tmpdir(), 'bizosaas-vectors-migrations-'));
  writeFileSync(
    join(dir, '001_pages.sql'),
    `-- Up Migration
CREATE TABLE vectest.pages (
  tenant_id uuid NOT NULL,
  id text NOT NULL,
  body text NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
SELECT kit.tenant_table('vectest.pages');
SELECT kit.vector_column('vectest.pages', dimensions => ${LOCAL_HASH_DIMENSIONS}, model => '${LOCAL_HASH_MODEL}');

-- Down Migration
DROP SCHEMA vectest CASCADE;
`,
  );
  return { target: { name: 'vectest', dir }, cleanUp: () => rmSync(dir, { recursive: true, force: true }) };
}

const modes: { name: string; embedded: boolean; storage: 'pgvector' | 'exact' }[] = [
  { name: 'embedded PGlite with pgvector', embedded: true, storage: 'pgvector' },
];
if (await postgresReachable()) modes.unshift({ name: 'PostgreSQL without pgvector', embedded: false, storage: 'exact' });
else console.log('kit-vectors: PostgreSQL not reachable, the exact-cosine storage is not tested');

/** Top results of each mode for the same queries, compared after both ran. */
const rankings = new Map<string, Record<string, string[]>>();

const FILLER = 300;

describe.each(modes)('vector storage and search on $name', ({ name, embedded, storage }) => {
  let backends: TestBackends;
  let column: VectorColumn;
  const migrations = pagesMigrations();
  const acme = randomUUID();
  const globex = randomUUID();
  const small = randomUUID();
  const as = <T>(tenantId: string | null, fn: (tx: Tx) => Promise<T>) => backends.db.withTenant({ tenantId, accountId: null }, fn);
  /**
   * The same, with sorting off on pgvector, so the only plan left is the hnsw index's order.
   * PostgreSQL rightly reads a few hundred rows and sorts them exactly (measured on PGlite: still
   * a seq scan at 2,000 rows of a model, the hnsw index at 4,000; a tenant of a few rows is read
   * by its primary key and sorted), and an hnsw insert costs milliseconds in WASM, so the test
   * forces the index instead of writing thousands of rows: what it checks is that the search's
   * statement can use the index and what the approximate index then returns.
   */
  const searchAs = <T>(tenantId: string | null, fn: (tx: Tx) => Promise<T>) =>
    as(tenantId, async (tx) => {
      if (storage === 'pgvector') await tx.query('SET LOCAL enable_sort = off');
      return fn(tx);
    });

  /** Writes pages of one tenant in one statement, with the storage's own cast. */
  async function insertPages(tenantId: string, pages: [string, string][], model = embedder.model, vectorOf = (text: string) => embedder.embedOne(text)) {
    const cast = column.storage === 'pgvector' ? `::${column.extensionSchema}.vector` : '::real[]';
    const rows = pages.map(([id, body]) => {
      const values = embeddingValues(column, model, vectorOf(body));
      return { id, body, embedding: values.embedding, embedding_model: values.embedding_model, embedding_dimensions: values.embedding_dimensions };
    });
    await as(tenantId, (tx) =>
      tx.query(
        `INSERT INTO vectest.pages (tenant_id, id, body, embedding, embedding_model, embedding_dimensions)
         SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid, id, body, e${cast}, m, d
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[]) AS t(id, body, e, m, d)`,
        [rows.map((r) => r.id), rows.map((r) => r.body), rows.map((r) => r.embedding), rows.map((r) => r.embedding_model), rows.map((r) => r.embedding_dimensions)],
      ),
    );
  }

  /** A client as the owner (what runs migrations), with the notices it receives. */
  async function asOwner<T>(fn: (client: pg.ClientBase, notices: string[]) => Promise<T>): Promise<T> {
    const notices: string[] = [];
    const onNotice = (notice: { message?: string }) => notices.push(notice.message ?? '');
    if (backends.database.ownerUrl) {
      const client = new pg.Client({ connectionString: backends.database.ownerUrl });
      await client.connect();
      client.on('notice', onNotice);
      try {
        return await fn(client, notices);
      } finally {
        await client.end();
      }
    }
    const client = await backends.db.pool.connect();
    client.on('notice', onNotice);
    try {
      await client.query(`SET ROLE ${OWNER_ROLE}`);
      return await fn(client, notices);
    } finally {
      await client.query('RESET ROLE');
      client.off('notice', onNotice);
      client.release();
    }
  }

  beforeAll(async () => {
    const started = performance.now();
    backends = await createTestBackends({}, { embedded });
    await backends.migrate([migrations.target]);
    const migrated = performance.now();
    column = await as(null, (tx) => describeVectorColumn(tx, 'vectest.pages'));
    await insertPages(acme, [...fillerPages(FILLER, 1).map((body, i): [string, string] => [`filler-${i}`, body]), ...Object.entries(PAGES)]);
    // globex holds the same seo page, under ids of its own, and its own filler.
    await insertPages(globex, [['globex-seo', PAGES.seo!], ['globex-near', NEAR_SEO], ...fillerPages(100, 2).map((body, i): [string, string] => [`globex-filler-${i}`, body])]);
    // A tenant with three pages among thousands of others' in the same index.
    await insertPages(small, [['small-coffee', PAGES.coffee!], ['small-email', PAGES.email!], ['small-cafe', PAGES.cafe!]]);
    await asOwner((client) => client.query('ANALYZE vectest.pages'));
    console.log(`kit-vectors on ${name}: ready in ${((performance.now() - started) / 1000).toFixed(1)} s (migrations ${((migrated - started) / 1000).toFixed(1)} s)`);
  });
  afterAll(async () => {
    await backends?.close();
    migrations.cleanUp();
  });

  it(`stores the column as ${storage}, as chosen at migration time, and says so`, async () => {
    expect(column.storage).toBe(storage);
    expect(column.note).toMatch(storage === 'pgvector' ? /^kit\.vector_column: pgvector 0\.8\.\d+: hnsw index \(cosine\) for local-hash-v1\/384$/ : /^kit\.vector_column: exact cosine over real\[\], no index \(pgvector unavailable: .+\)$/);
    // The same call on another table raises it: a NOTICE for pgvector, a WARNING for the fallback.
    const notices = await asOwner(async (client, received) => {
      await client.query('BEGIN');
      await client.query('CREATE TABLE vectest.other (tenant_id uuid NOT NULL, id text NOT NULL)');
      const { rows } = await client.query(`SELECT kit.vector_column('vectest.other', 16, 'some-model') AS storage`);
      await client.query('ROLLBACK');
      expect(rows).toEqual([{ storage }]);
      return received;
    });
    expect(notices.some((n) => n.startsWith('kit.vector_column(vectest.other.embedding): ' + (storage === 'pgvector' ? 'pgvector' : 'exact cosine')))).toBe(true);
  });

  it('ranks the near-duplicate page first, far above the rest', async () => {
    const results = await searchAs(acme, (tx) => searchText(tx, column, embedder, NEAR_SEO, { limit: 5 }));
    expect(results[0]!.id).toBe('seo');
    expect(results[0]!.score).toBeGreaterThan(0.75);
    expect(results[1]!.score).toBeLessThan(0.4);
    // Best first, and the scores are the cosine computed in JavaScript (float4 precision).
    for (const [i, row] of results.entries()) {
      if (i) expect(row.score).toBeLessThanOrEqual(results[i - 1]!.score);
    }
    expect(results[0]!.score).toBeCloseTo(cosine(embedder.embedOne(NEAR_SEO), embedder.embedOne(PAGES.seo!)), 4);
  });

  it('gives the exact ranking (the same as brute force in JavaScript), whatever the storage', async () => {
    const queries: Record<string, string> = {
      near: NEAR_SEO,
      brewing: 'how to brew coffee with a paper filter',
      plans: 'pricing plans for agencies with single sign-on',
      filler: fillerPages(1, 99)[0]!,
    };
    const all = await as(acme, (tx) => tx.query<{ id: string; body: string }>('SELECT id, body FROM vectest.pages'));
    const found: Record<string, string[]> = {};
    for (const [key, text] of Object.entries(queries)) {
      const q = embedder.embedOne(text);
      const rows = await searchAs(acme, (tx) => nearest(tx, column, { model: embedder.model, vector: q, limit: 5 }));
      const expected = all.rows
        .map((row) => ({ id: row.id, score: cosine(q, embedder.embedOne(row.body)) }))
        .sort((a, b) => b.score - a.score)
        .slice(0, 5);
      expect(rows.map((r) => r.id), key).toEqual(expected.map((r) => r.id));
      for (const [i, row] of rows.entries()) expect(row.score).toBeCloseTo(expected[i]!.score, 4);
      found[key] = rows.map((r) => r.id);
    }
    rankings.set(name, found);
  });

  it(storage === 'pgvector' ? 'uses the hnsw index (EXPLAIN), scanning on for a small tenant' : 'computes exact cosine with no index (EXPLAIN)', async () => {
    const query = nearestQuery(column, { model: embedder.model, vector: embedder.embedOne('coffee'), limit: 3 });
    const plan = await searchAs(small, async (tx) => {
      if (query.prepare) await tx.query(query.prepare);
      const { rows } = await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN (COSTS OFF) ${query.text}`, query.values);
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    });
    if (storage === 'pgvector') {
      expect(plan).toMatch(/Index Scan using pages_embedding_[0-9a-f]{8}_hnsw on pages/);
      expect(plan).not.toMatch(/Seq Scan/);
      // The tenant of three pages gets all three, best first, though the index holds hundreds of
      // others' rows (hnsw.iterative_scan: without it, the candidates it looks at are mostly theirs).
      const rows = await searchAs(small, (tx) => searchText(tx, column, embedder, 'coffee', { limit: 3 }));
      expect(rows.map((r) => r.id)).toEqual(['small-coffee', 'small-cafe', 'small-email']);
    } else {
      expect(plan).toMatch(/kit\.cosine_similarity/);
      expect(plan).not.toMatch(/hnsw|ivfflat|pages_embedding/);
    }
  });

  it("searches only the caller's tenant (row-level security through the helper)", async () => {
    const acmeIds = await searchAs(acme, (tx) => searchText(tx, column, embedder, PAGES.seo!, { limit: 20 }));
    expect(acmeIds[0]).toEqual({ id: 'seo', score: expect.closeTo(1, 5) });
    expect(acmeIds.some((r) => r.id.startsWith('globex-') || r.id.startsWith('small-'))).toBe(false);
    const globexIds = await searchAs(globex, (tx) => searchText(tx, column, embedder, PAGES.seo!, { limit: 20 }));
    expect(globexIds.slice(0, 2).map((r) => r.id)).toEqual(['globex-seo', 'globex-near']);
    expect(globexIds.every((r) => r.id.startsWith('globex-'))).toBe(true);
    // A filter of the caller's own, with its parameters after the helper's.
    const filtered = await searchAs(acme, (tx) =>
      searchText<{ id: string; body: string }>(tx, column, embedder, PAGES.seo!, { limit: 3, select: ['id', 'body'], where: (p) => `id <> ${p.add('seo')}`, minScore: 0.2 }),
    );
    expect(filtered.map((r) => r.id)).not.toContain('seo');
    expect(filtered.every((r) => r.score >= 0.2 && typeof r.body === 'string')).toBe(true);
    // No tenant: no rows at all.
    expect(await searchAs(null, (tx) => searchText(tx, column, embedder, PAGES.seo!, { limit: 5 }))).toEqual([]);
  });

  it('ignores rows of another model or dimension, and refuses a vector that contradicts its dimension', async () => {
    const other = new HashEmbedder({ dimensions: 256 });
    // The same text, so the same direction under another model's name: a perfect score if compared.
    await insertPages(acme, [['other-model', NEAR_SEO]], 'other-model-v2');
    await insertPages(acme, [['other-dimension', NEAR_SEO]], LOCAL_HASH_MODEL, (text) => other.embedOne(text));
    await insertPages(acme, [['not-embedded', '']]);
    const results = await searchAs(acme, (tx) => searchText(tx, column, embedder, NEAR_SEO, { limit: 1000 }));
    const ids = results.map((r) => r.id);
    expect(ids[0]).toBe('seo');
    expect(ids).not.toContain('other-model');
    expect(ids).not.toContain('other-dimension');
    expect(ids).not.toContain('not-embedded');
    // Every other page of the tenant is there (the index scan goes on past ef_search).
    expect(ids).toHaveLength(Object.keys(PAGES).length + FILLER);
    // Searching as the other model finds only its rows.
    const asOther = await searchAs(acme, (tx) => nearest(tx, column, { model: LOCAL_HASH_MODEL, vector: other.embedOne(NEAR_SEO), limit: 10 }));
    expect(asOther.map((r) => r.id)).toEqual(['other-dimension']);
    // The stored dimension must be the vector's: a lie is refused by the column's CHECK.
    const vector = embeddingValues(column, LOCAL_HASH_MODEL, other.embedOne('x'));
    await expect(
      as(acme, (tx) =>
        tx.query(
          `INSERT INTO vectest.pages (tenant_id, id, body, embedding, embedding_model, embedding_dimensions)
           VALUES (NULLIF(current_setting('app.tenant_id', true), '')::uuid, 'liar', 'x', $1, $2, 384)`,
          [vector.embedding, vector.embedding_model],
        ),
      ),
    ).rejects.toThrow(/embedding_set_together/);
  });

  it('keeps kit.vector_column for migrations: the app role cannot call it', async () => {
    await expect(as(acme, (tx) => tx.query(`SELECT kit.vector_column('vectest.pages', 384, 'x', 'other_embedding')`))).rejects.toThrow(/permission denied/);
    await expect(as(acme, (tx) => tx.query(`SELECT kit.vector_index('vectest.pages', 384, 'x')`))).rejects.toThrow(/permission denied/);
    // Bad arguments stop the migration.
    await asOwner(async (client) => {
      await expect(client.query(`SELECT kit.vector_column('vectest.pages', 384, 'bad model''; --', 'e2')`)).rejects.toThrow(/not a model name/);
      await expect(client.query(`SELECT kit.vector_column('vectest.pages', 4000, 'm', 'e3')`)).rejects.toThrow(/dimensions must be 1 to 2000/);
    });
  });
});

describe('both storages', () => {
  it('rank the same data the same way', () => {
    if (rankings.size < 2) {
      console.log('kit-vectors: only one storage ran, nothing to compare');
      expect(rankings.size).toBe(1);
      return;
    }
    const [first, second] = [...rankings.values()];
    expect(second).toEqual(first);
  });
});
