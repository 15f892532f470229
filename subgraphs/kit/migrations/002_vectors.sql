-- Up Migration

-- Vector columns for similarity search (kit/vectors/), in one of two storages chosen when the
-- migration runs:
--   * pgvector: the column is `vector` (any dimension) and an hnsw index (cosine) covers the rows
--     of one embedding model and dimension, a partial index over `column::vector(n)`, pgvector's
--     documented form for mixed dimensions (kit.vector_index adds one for another model);
--   * without pgvector (a stock PostgreSQL 15): the column is `real[]` and searches compute the
--     exact cosine of every row of the tenant and model in SQL (kit.cosine_similarity), no index.
-- pgvector is used when the extension exists in the database or this migration can create it.
-- It is not a trusted extension, so only a superuser creates it: `npm run db:setup` (and the
-- docker db-setup service) on PostgreSQL, the embedded start on PGlite. The choice is raised as
-- a NOTICE (pgvector) or WARNING (exact cosine) and kept as the column's comment, which
-- kit/vectors/column.ts reads and the subgraph logs when it starts.
--
-- A subgraph's migration adds the columns to a table it created:
--   SELECT kit.vector_column('agents.insights', dimensions => 384, model => 'local-hash-v1');
-- which adds `embedding` (vector or real[]), `embedding_model text` and `embedding_dimensions
-- integer`, all NULL until the row is embedded, with a CHECK that they are set together and
-- that the vector has that many dimensions.

CREATE FUNCTION kit.cosine_similarity(a real[], b real[]) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (
  SELECT sum(x::float8 * y) / NULLIF(sqrt(sum(x::float8 * x)) * sqrt(sum(y::float8 * y)), 0)
  FROM unnest(a, b) AS t(x, y)
);

COMMENT ON FUNCTION kit.cosine_similarity(real[], real[]) IS
  'Exact cosine similarity of two equally long real[] vectors (NULL for a zero vector): the search of a vector column stored without pgvector.';

-- The app role computes it in its searches.
GRANT USAGE ON SCHEMA kit TO bizosaas_app;
GRANT EXECUTE ON FUNCTION kit.cosine_similarity(real[], real[]) TO bizosaas_app;

-- The hnsw index of `col` for one model and dimension (when the column is a pgvector one; a
-- real[] column has no index and this returns 'exact'). Idempotent: a migration, or a subgraph's
-- start as the owner, may call it for the model it is configured with.
CREATE FUNCTION kit.vector_index(tbl regclass, dimensions integer, model text, col name DEFAULT 'embedding')
RETURNS text
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
DECLARE
  v_table text;
  v_relname name;
  v_type text;
  v_ext name;
  v_index text;
BEGIN
  SELECT format('%I.%I', n.nspname, c.relname), c.relname INTO v_table, v_relname
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.oid = tbl AND c.relkind IN ('r', 'p');
  IF v_table IS NULL THEN
    RAISE EXCEPTION 'kit.vector_index(%): not a table', tbl;
  END IF;
  IF dimensions IS NULL OR dimensions < 1 OR dimensions > 2000 THEN
    RAISE EXCEPTION 'kit.vector_index(%): dimensions must be 1 to 2000 (hnsw), not %', v_table, dimensions;
  END IF;
  IF model IS NULL OR model !~ '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$' THEN
    RAISE EXCEPTION 'kit.vector_index(%): not a model name: %', v_table, model;
  END IF;
  SELECT t.typname INTO v_type
  FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
  WHERE a.attrelid = tbl AND a.attname = col AND NOT a.attisdropped;
  IF v_type IS NULL THEN
    RAISE EXCEPTION 'kit.vector_index(%): no column "%" (kit.vector_column adds it)', v_table, col;
  END IF;
  IF v_type <> 'vector' THEN
    RETURN 'exact';
  END IF;
  SELECT extnamespace::regnamespace::name INTO v_ext FROM pg_extension WHERE extname = 'vector';
  -- One index per (table, column, model, dimension): the name says the column and hashes the rest.
  v_index := format('%s_%s_%s_hnsw', left(v_relname, 30), left(col, 16), left(md5(model || '/' || dimensions), 8));
  EXECUTE format(
    'CREATE INDEX IF NOT EXISTS %I ON %s USING hnsw ((%I::%I.vector(%s)) %I.vector_cosine_ops) WHERE %I = %L AND %I = %s',
    v_index, v_table, col, v_ext, dimensions, v_ext, col || '_model', model, col || '_dimensions', dimensions);
  RETURN 'pgvector';
END
$$;

CREATE FUNCTION kit.vector_column(tbl regclass, dimensions integer, model text, col name DEFAULT 'embedding')
RETURNS text
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
DECLARE
  v_table text;
  v_ext name;
  v_why text;
  v_note text;
BEGIN
  SELECT format('%I.%I', n.nspname, c.relname) INTO v_table
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.oid = tbl AND c.relkind IN ('r', 'p');
  IF v_table IS NULL THEN
    RAISE EXCEPTION 'kit.vector_column(%): not a table', tbl;
  END IF;
  IF col IS NULL OR col !~ '^[a-z_][a-z0-9_]{0,40}$' THEN
    RAISE EXCEPTION 'kit.vector_column(%): not a column name: %', v_table, col;
  END IF;
  IF dimensions IS NULL OR dimensions < 1 OR dimensions > 2000 THEN
    RAISE EXCEPTION 'kit.vector_column(%): dimensions must be 1 to 2000 (hnsw), not %', v_table, dimensions;
  END IF;
  IF model IS NULL OR model !~ '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$' THEN
    RAISE EXCEPTION 'kit.vector_column(%): not a model name: %', v_table, model;
  END IF;

  SELECT extnamespace::regnamespace::name INTO v_ext FROM pg_extension WHERE extname = 'vector';
  IF v_ext IS NULL THEN
    -- A savepoint: a failure (not installed, not allowed) leaves the migration's transaction usable.
    BEGIN
      CREATE EXTENSION IF NOT EXISTS vector SCHEMA public;
      SELECT extnamespace::regnamespace::name INTO v_ext FROM pg_extension WHERE extname = 'vector';
    EXCEPTION
      WHEN insufficient_privilege THEN
        v_why := SQLERRM || '; a superuser creates it: npm run db:setup';
      WHEN OTHERS THEN
        v_why := SQLERRM;
    END;
  END IF;

  IF v_ext IS NOT NULL THEN
    EXECUTE format(
      'ALTER TABLE %s ADD COLUMN %I %I.vector, ADD COLUMN %I text, ADD COLUMN %I integer, '
      'ADD CONSTRAINT %I CHECK (CASE WHEN %I IS NULL THEN %I IS NULL AND %I IS NULL '
      'ELSE %I IS NOT NULL AND %I = %I.vector_dims(%I) END)',
      v_table, col, v_ext, col || '_model', col || '_dimensions',
      col || '_set_together', col, col || '_model', col || '_dimensions',
      col || '_model', col || '_dimensions', v_ext, col);
    PERFORM kit.vector_index(tbl, dimensions, model, col);
    v_note := format('pgvector %s: hnsw index (cosine) for %s/%s', (SELECT extversion FROM pg_extension WHERE extname = 'vector'), model, dimensions);
  ELSE
    EXECUTE format(
      'ALTER TABLE %s ADD COLUMN %I real[], ADD COLUMN %I text, ADD COLUMN %I integer, '
      'ADD CONSTRAINT %I CHECK (CASE WHEN %I IS NULL THEN %I IS NULL AND %I IS NULL '
      'ELSE %I IS NOT NULL AND array_ndims(%I) = 1 AND %I = cardinality(%I) AND array_position(%I, NULL) IS NULL END)',
      v_table, col, col || '_model', col || '_dimensions',
      col || '_set_together', col, col || '_model', col || '_dimensions',
      col || '_model', col, col || '_dimensions', col, col);
    v_note := format('exact cosine over real[], no index (pgvector unavailable: %s)', coalesce(v_why, 'not installed'));
  END IF;

  EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', v_table, col, 'kit.vector_column: ' || v_note);
  IF v_ext IS NOT NULL THEN
    RAISE NOTICE 'kit.vector_column(%.%): %', v_table, col, v_note;
  ELSE
    RAISE WARNING 'kit.vector_column(%.%): %', v_table, col, v_note;
  END IF;
  RETURN CASE WHEN v_ext IS NOT NULL THEN 'pgvector' ELSE 'exact' END;
END
$$;

-- Only migrations (the owner, who owns them) call these.
REVOKE ALL ON FUNCTION kit.vector_column(regclass, integer, text, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION kit.vector_index(regclass, integer, text, name) FROM PUBLIC;

-- Down Migration
DROP FUNCTION kit.vector_column(regclass, integer, text, name);
DROP FUNCTION kit.vector_index(regclass, integer, text, name);
DROP FUNCTION kit.cosine_similarity(real[], real[]);
REVOKE USAGE ON SCHEMA kit FROM bizosaas_app;
