import { defineConfig } from '@graphql-hive/gateway';

/**
 * Hive Gateway's configuration for the benchmark: its defaults, except that BENCH_HIVE_DEDUP=off
 * turns off the deduplication of identical in-flight subgraph requests (`deduplicateInflightRequests`
 * of its HTTP transport, on by default). Inbound request deduplication is off by default and stays off.
 */
export const gatewayConfig = defineConfig(
  process.env.BENCH_HIVE_DEDUP === 'off' ? { transportEntries: { '*.http': { options: { deduplicateInflightRequests: false } } } } : {},
);
