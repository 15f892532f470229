/**
 * V8 settings of every process that runs subgraphs, set before it allocates much: each such entry
 * imports this module first (start-subgraph.ts, gateway/start-all.ts, the benchmark's subgraph
 * target; a test checks). A node flag given on the command line for the same setting wins, so
 * `npm run bench:subgraph -- --variants 'now=;then=NODE_FLAGS:--allocation-site-pretenuring'`
 * measures the difference.
 *
 * Allocation-site pretenuring off. V8 starts allocating an allocation site's objects straight in
 * the old generation once most of them survived a scavenge. A subgraph reads rows in bursts (pg
 * parses a page's 50 rows, their strings, dates and arrays in one go); scavenges struck mid-burst
 * found them alive, so V8 pretenured pg's row objects. Each row then lived in the old generation,
 * kept its young strings and dates alive through the old-to-new remembered set (copied once, then
 * promoted) and died only in a major collection. On crm's leads page under load (`node
 * --trace-gc`, 2026-12-07): scavenges of 9 ms promoting 1.5 MB each, the old generation growing
 * by 150 MB between major collections; off, scavenges of 2 ms promoting 0.2 MB. BENCHMARKS.md
 * ("What the production settings rest on") has what it bought: 39% less CPU a leads page, 17% a
 * REST leads page, 10% auth's owner look-up.
 * Gateway-only processes (gateway/index.ts) keep V8's default: scenario A showed no gain there.
 */
import { setFlagsFromString } from 'node:v8';

const PRETENURING = /^--?(no[-_]?)?allocation[-_]site[-_]pretenuring$/;

/** The V8 flags this module sets for a process started with `execArgv`: none the command line already decided. */
export function v8FlagsFor(execArgv: readonly string[]): string[] {
  return execArgv.some((arg) => PRETENURING.test(arg)) ? [] : ['--no-allocation-site-pretenuring'];
}

for (const flag of v8FlagsFor(process.execArgv)) setFlagsFromString(flag);
