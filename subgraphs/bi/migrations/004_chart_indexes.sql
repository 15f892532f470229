-- Up Migration

-- An index for charts over many order facts, measured by issue 16's bench
-- (`npm run bench -- --scenario E`, test/bench/scenarios/e-bi.ts, which drops it after its
-- rounds and charts the same data again without it; BENCHMARKS.md, scenario E).
--
-- Order charts range on created_at and read a few narrow columns (totals, paid, status,
-- channel, currency). Through orders_by_created alone each row in range costs a visit to its heap
-- page (a bitmap heap scan, or a sequential scan of the whole table for long ranges); with those
-- columns in the index the range is an index-only scan. 1,000,000 orders of one tenant, two runs:
-- revenue by channel over 90 days 2,493 buffers instead of 21,521, cold p50 through the gateway
-- 128 ms instead of 242 (121 against 334 in the other run); orders by status over 365 days 8,006
-- buffers instead of 20,814, 231 ms against 261 (227 against 382). 111 MB at that size.
-- (An index on order_lines (tenant_id, product_name) INCLUDE (total_gross, quantity) read 3.5x
-- fewer buffers for "top products, all time" but ran no faster in EXPLAIN ANALYZE: not kept.)
CREATE INDEX orders_chart_idx ON bi.orders (tenant_id, created_at) INCLUDE (paid, status, channel, currency, total_gross);

-- Down Migration
DROP INDEX bi.orders_chart_idx;
