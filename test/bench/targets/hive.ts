/**
 * Target (c): Hive Gateway, run through its own CLI (`hive-gateway supergraph <file>`) in this
 * process, as its users and the reference benchmark run it: its defaults, plus
 * `--hive-router-runtime` (Rust query planner, @graphql-hive/router-runtime) for the router
 * variant. `--dedup off` loads hive.config.ts with BENCH_HIVE_DEDUP=off, which turns off Hive's
 * deduplication of identical in-flight subgraph requests (on by default).
 *
 *   node --import tsx test/bench/targets/hive.ts --port N --supergraph FILE [--router-runtime] [--dedup on|off]
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

// tsx, which runs this launcher, turns source maps on for the whole process, which makes every
// `new Error().stack` dearer (agent-base, in Apollo's default fetcher, builds one per subgraph
// request). Peers run as plain JavaScript in the reference benchmark: off. (Ours keeps them on:
// production starts our gateway with `node --import tsx`, see docker/Dockerfile.)
process.setSourceMapsEnabled(false);

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    supergraph: { type: 'string' },
    'router-runtime': { type: 'boolean', default: false },
    dedup: { type: 'string', default: 'on' },
  },
});
process.env.BENCH_HIVE_DEDUP = values.dedup;

const require = createRequire(import.meta.url);
const bin = join(dirname(require.resolve('@graphql-hive/gateway')), 'bin.js');
process.argv = [
  process.argv[0]!,
  bin,
  'supergraph',
  values.supergraph!,
  '--host',
  '127.0.0.1',
  '--port',
  values.port!,
  '--config-path',
  fileURLToPath(new URL('./hive.config.ts', import.meta.url)),
  ...(values['router-runtime'] ? ['--hive-router-runtime'] : []),
];
await import(pathToFileURL(bin).href);
