/**
 * Scenario A: The Guild's public federation gateway benchmark (graphql-hive/graphql-gateways-benchmark)
 * reproduced: its four subgraphs (accounts, inventory, products, reviews; same schemas, same
 * static data, written in Node: fixtures/federation/), its heavy nested `TestQuery` (87.6 KB
 * response), one supergraph composed once and loaded by every gateway.
 *
 * Targets: (a) our gateway with production settings; (b) plain @apollo/gateway with
 * startStandaloneServer and defaults; (c) Hive Gateway with defaults, and with the Rust query
 * planner (@graphql-hive/router-runtime). Hive deduplicates identical in-flight subgraph requests
 * by default, which flatters it when 50 connections send the same query, so each Hive variant
 * is also run with deduplication off. Ours and plain Apollo have no such feature (dedup: null);
 * the report's "subgraph requests per query" column shows it.
 */
import { fileURLToPath } from 'node:url';
import { productionNodeFlags } from '../../../gateway/node-flags.ts';
import { jsonBodyChecker } from '../lib/checker.ts';
import { expectedTestQueryResponse } from '../fixtures/federation/direct.ts';
import { TEST_QUERY_BODY } from '../fixtures/federation/query.ts';
import type { LaunchContext, Scenario, Target } from './types.ts';

const target = (name: string) => fileURLToPath(new URL(`../targets/${name}.ts`, import.meta.url));
const fixture = (context: LaunchContext) => {
  if (!context.fixture) throw new Error('scenario A targets need the federation fixture');
  return context.fixture;
};

/** Rate limits far above anything the benchmark sends: they are checked on every request but never throttle. */
const UNTHROTTLED = '1000000000';

export const OURS: Target = {
  id: 'ours',
  label: 'ours (gateway/server.ts, production settings)',
  kind: 'gateway',
  dedup: null,
  planFamily: 'apollo',
  launch: (context) => ({
    script: target('ours'),
    args: [
      '--port', String(context.port),
      '--supergraph', fixture(context).supergraphFile,
      '--subgraphs', JSON.stringify(fixture(context).subgraphUrls),
    ],
    env: {
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      REDIS_URL: context.redis.url,
      REDIS_PREFIX: context.redis.prefix,
      RATE_LIMIT_PER_MINUTE_IP: UNTHROTTLED,
      RATE_LIMIT_PER_MINUTE_TENANT: UNTHROTTLED,
      CACHE_TTL_SECONDS: '0',
    },
    // The production start command's node flags (package.json start:gateway, docker/).
    nodeFlags: productionNodeFlags(),
  }),
};

/**
 * `--targets ours,ours-variant` with BENCH_VARIANT_NODE_FLAGS="<node flags>" (in place of the
 * production ones) and/or BENCH_VARIANT_ENV="NAME=value ...": ours again with other settings,
 * for an A/B within one run.
 */
const VARIANT_FLAGS = process.env.BENCH_VARIANT_NODE_FLAGS?.split(/\s+/).filter(Boolean) ?? [];
const VARIANT_ENV = Object.fromEntries(
  (process.env.BENCH_VARIANT_ENV?.split(/\s+/).filter(Boolean) ?? []).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
);
const OURS_VARIANT: Target = {
  ...OURS,
  id: 'ours-variant',
  label: `ours with ${[...VARIANT_FLAGS, ...Object.entries(VARIANT_ENV).map(([k, v]) => `${k}=${v}`)].join(' ')}`,
  launch: (context) => {
    const launch = OURS.launch(context);
    return { ...launch, env: { ...launch.env, ...VARIANT_ENV }, nodeFlags: VARIANT_FLAGS.length ? VARIANT_FLAGS : launch.nodeFlags };
  },
};

const APOLLO: Target = {
  id: 'apollo',
  label: '@apollo/gateway + startStandaloneServer, defaults',
  kind: 'gateway',
  dedup: null,
  planFamily: 'apollo',
  launch: (context) => ({
    script: target('apollo'),
    args: ['--port', String(context.port), '--supergraph', fixture(context).supergraphFile],
    env: { NODE_ENV: 'production', APOLLO_TELEMETRY_DISABLED: 'true' },
  }),
};

function hive(routerRuntime: boolean, dedup: 'on' | 'off'): Target {
  return {
    id: `hive${routerRuntime ? '-router-runtime' : ''}${dedup === 'off' ? '-nodedup' : ''}`,
    label: `@graphql-hive/gateway${routerRuntime ? ' + router-runtime' : ''}, ${dedup === 'on' ? 'defaults (dedup on)' : 'dedup off'}`,
    kind: 'gateway',
    dedup,
    planFamily: routerRuntime ? 'hive-router-runtime' : 'hive',
    launch: (context) => ({
      script: target('hive'),
      args: [
        '--port', String(context.port),
        '--supergraph', fixture(context).supergraphFile,
        '--dedup', dedup,
        ...(routerRuntime ? ['--router-runtime'] : []),
      ],
      env: { NODE_ENV: 'production' },
    }),
  };
}

export const FEDERATION_REQUEST = {
  method: 'POST' as const,
  path: '/graphql',
  headers: { 'content-type': 'application/json' },
  body: TEST_QUERY_BODY,
};

export const scenarioA: Scenario = {
  id: 'A',
  title: 'Scenario A: the public federation gateway benchmark (4 subgraphs, TestQuery)',
  fixture: 'federation',
  targets: [OURS, APOLLO, hive(false, 'on'), hive(false, 'off'), hive(true, 'on'), hive(true, 'off'), ...(VARIANT_FLAGS.length || Object.keys(VARIANT_ENV).length ? [OURS_VARIANT] : [])],
  baseline: 'apollo',
  request: FEDERATION_REQUEST,
  checker: () => jsonBodyChecker(expectedTestQueryResponse()),
};
