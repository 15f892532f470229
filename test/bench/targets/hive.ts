/**
 * Target (c): Hive Gateway, run through its own CLI (`hive-gateway supergraph <file>`) in this
 * process, as its users and the reference benchmark run it: its defaults, plus
 * `--hive-router-runtime` (Rust query planner, @graphql-hive/router-runtime) for the router
 * variant. `--dedup off` loads hive.config.ts with BENCH_HIVE_DEDUP=off, which turns off Hive's
 * deduplication of identical in-flight subgraph requests (on by default).
 *
 *   node tmp/bench-build-<pid>/test/bench/targets/hive.js --port N --supergraph FILE [--router-runtime] [--dedup on|off]
 */
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

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
  // hive.config.ts, or hive.config.js beside the compiled launcher
  fileURLToPath(new URL(`./hive.config${extname(import.meta.url)}`, import.meta.url)),
  ...(values['router-runtime'] ? ['--hive-router-runtime'] : []),
];
await import(pathToFileURL(bin).href);
