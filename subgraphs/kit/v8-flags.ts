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
 * promoted: 1.5 MB a scavenge on crm's leads page under load) and died only in a major collection.
 * Scavenges took 9 ms instead of 2 and the old generation grew by 150 MB between major
 * collections. Off (closed model, same run; Node 20): crm's leads page -25% CPU a request,
 * a REST leads page -17%, auth's owner look-up -10%; Node 24: leads -9%, p99 40 -> 26 ms.
 * Not for the gateway: scenario A showed no gain there, and its scavenges are already short.
 */
import { setFlagsFromString } from 'node:v8';

const flag = 'allocation-site-pretenuring';
const explicit = process.execArgv.some((arg) => arg.replaceAll('_', '-').replace(/^--no-/, '--') === `--${flag}`);
if (!explicit) setFlagsFromString(`--no-${flag}`);
