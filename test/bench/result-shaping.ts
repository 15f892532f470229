/**
 * `npx tsx test/bench/result-shaping.ts`: what the patch to @apollo/gateway (patches/README.md)
 * saves per request, in process, against Apollo's own code in the same run:
 * - result shaping (`computeResponse`) of a chart's answer, `rows: [[JSON]!]!`, from a small line
 *   chart to a 10,000-row table: Apollo's walk (the patch reversed with `patch -R` into a
 *   temporary copy of the module) against the patched one, after checking both give the same
 *   response;
 * - the operation analysis the patch keeps per document (`operationFromDocument`): its cost per
 *   request for the chart query and a CRM page query of our supergraph.
 *
 *   npx tsx test/bench/result-shaping.ts [--rounds 5]
 *
 * Rounds interleave the two, medians of µs per call; single-threaded CPU, so the host's noise
 * moves both alike.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(join(ROOT, 'package.json'));
const { values: flags } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } });
const rounds = Number(flags.rounds);

type Shaper = { computeResponse(args: { operation: unknown; variables: object; input: unknown; introspectionHandling: () => null }): unknown };
const fi = require('@apollo/federation-internals') as typeof import('@apollo/federation-internals');
const { parse } = require('graphql') as typeof import('graphql');

/** Apollo's result shaping as published: the patch's hunks for the module reversed into a copy beside it. */
function unpatchedShaper(): Shaper {
  const module = require.resolve('@apollo/gateway/dist/resultShaping.js');
  const patchFile = readFileSync(join(ROOT, 'patches/@apollo+gateway+2.14.4.patch'), 'utf8');
  const section = patchFile.split(/^(?=diff --git )/m).find((part) => part.startsWith('diff --git a/node_modules/@apollo/gateway/dist/resultShaping.js'));
  if (!section) throw new Error('the patch no longer touches resultShaping.js: nothing to compare');
  const copy = join(dirname(module), `resultShaping.unpatched-${process.pid}.js`);
  execFileSync('patch', ['-R', '--silent', `--output=${copy}`, module], { input: section });
  try {
    return require(copy) as Shaper;
  } finally {
    rmSync(copy, { force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** µs per call of `fn`, `calls` times in a row. */
function time(fn: () => unknown, calls: number): number {
  const t = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) fn();
  return Number(process.hrtime.bigint() - t) / 1000 / calls;
}

const apiSchema = fi.Supergraph.build(readFileSync(join(ROOT, 'schema/supergraph.graphql'), 'utf8')).apiSchema();
const CHART = 'query ChartBench($input: ChartInput!) { chartPreview(input: $input) { errors { field message } data { rowCount truncated rows } } }';
const LEADS = 'query Leads { leads(first: 50) { edges { node { id name email status score source createdAt owner { id email } } } pageInfo { hasNextPage endCursor } } }';

const patched = require('@apollo/gateway/dist/resultShaping.js') as Shaper;
const apollo = unpatchedShaper();
const operation = fi.operationFromDocument(apiSchema, parse(CHART), { validate: false });
const chart = (rows: number, columns: number) => ({
  chartPreview: {
    errors: [],
    data: { rowCount: rows, truncated: false, rows: Array.from({ length: rows }, (_, i) => Array.from({ length: columns }, (_, j) => (j === 0 ? `2026-01-${(i % 28) + 1}` : i * j + 0.5))) },
  },
});

console.log(`result shaping of chartPreview's rows, µs per response (median of ${rounds} rounds):\n`);
console.log('| rows x columns | Apollo | patched | ratio |\n|---|---|---|---|');
for (const [rows, columns] of [[12, 2], [100, 3], [1000, 4], [10000, 5]] as const) {
  const input = chart(rows, columns);
  const shape = (shaper: Shaper) => () => shaper.computeResponse({ operation, variables: {}, input, introspectionHandling: () => null });
  if (JSON.stringify(shape(apollo)()) !== JSON.stringify(shape(patched)())) throw new Error(`${rows}x${columns}: the patched shaping answers differently`);
  const calls = Math.max(20, Math.round(200_000 / (rows * columns)));
  const times: Record<'apollo' | 'patched', number[]> = { apollo: [], patched: [] };
  for (let round = 0; round < rounds; round++) {
    for (const name of round % 2 ? (['patched', 'apollo'] as const) : (['apollo', 'patched'] as const)) times[name].push(time(shape(name === 'apollo' ? apollo : patched), calls));
  }
  const [a, p] = [median(times.apollo), median(times.patched)];
  console.log(`| ${rows.toLocaleString('en')} x ${columns} | ${a.toFixed(1)} | ${p.toFixed(1)} | ${(a / p).toFixed(1)}x |`);
}

console.log(`\noperationFromDocument, µs per request that the patch builds once per document (median of ${rounds} rounds):\n`);
for (const [name, text] of [['chartPreview', CHART], ['leads page', LEADS]] as const) {
  const document = parse(text);
  fi.operationFromDocument(apiSchema, document, { validate: false });
  const times = Array.from({ length: rounds }, () => time(() => fi.operationFromDocument(apiSchema, document, { validate: false }), 2000));
  console.log(`- ${name}: ${median(times).toFixed(1)} µs`);
}
