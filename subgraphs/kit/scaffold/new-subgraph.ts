import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { repoPath } from '../paths.ts';
import { loadSubgraphs } from '../registry.ts';
import { scaffoldFiles, type ScaffoldNames } from './templates.ts';

// `npm run new:subgraph -- <name> [--port <port>]`: writes a working minimal subgraph (see
// templates.ts), then `npm run codegen` and `npm run compose`, so that it typechecks, composes
// into the supergraph, migrates and passes its own test (`npx vitest run test/<name>.test.ts`).

/** A subgraph name is its folder, schema file, PostgreSQL schema and `<NAME>_PORT` prefix: one word. */
const NAME = /^[a-z][a-z0-9]{1,29}$/;
/** Where free ports are looked for when --port is not given (the platform's own ports are below). */
const FIRST_FREE_PORT = 8100;

function fail(message: string): never {
  process.stderr.write(`new:subgraph: ${message}\n`);
  process.exit(1);
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { port: { type: 'string' } } });
const name = positionals[0];
if (!name || positionals.length > 1) fail('usage: npm run new:subgraph -- <name> [--port <port>]');
if (!NAME.test(name) || name === 'kit') fail(`"${name}" is not a subgraph name: 2 to 30 lowercase letters and digits, starting with a letter (not "kit")`);

const existing = await loadSubgraphs();
if (existing.some((s) => s.name === name) || existsSync(repoPath(`subgraphs/${name}`))) fail(`subgraph "${name}" exists already`);
const taken = new Map(existing.map((s) => [s.port, s.name]));
let port = FIRST_FREE_PORT;
if (values.port !== undefined) {
  port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port < 1024 || port > 65535) fail(`--port ${values.port}: expected a port from 1024 to 65535`);
  if (taken.has(port)) fail(`--port ${port}: the ${taken.get(port)} subgraph listens there`);
} else {
  while (taken.has(port)) port++;
}

const names: ScaffoldNames = { name, port, type: name[0]!.toUpperCase() + name.slice(1), field: name };
const files = scaffoldFiles(names);
const clash = Object.keys(files).find((path) => existsSync(repoPath(path)));
if (clash) fail(`${clash} exists already`);
for (const [path, content] of Object.entries(files)) {
  mkdirSync(dirname(repoPath(path)), { recursive: true });
  writeFileSync(repoPath(path), content);
  process.stdout.write(`wrote ${path}\n`);
}

// Typed resolvers for its schema, then supergraph.yaml and the supergraph with it.
for (const script of ['codegen', 'compose']) {
  const run = spawnSync('npm', ['run', '--silent', script], { cwd: repoPath('.'), stdio: 'inherit' });
  if (run.status !== 0) fail(`npm run ${script} failed: fix the files above and run it again`);
}

process.stdout.write(`
The ${name} subgraph listens on port ${port} (${name.toUpperCase()}_PORT overrides it).
  npx vitest run test/${name}.test.ts   its own test
  npm start                               the supergraph with it
Next: rename its notes to your domain's objects (schema/${name}.graphql, then npm run codegen
&& npm run compose), and give it settings, routes, seed or background work in its index.ts
(see SubgraphDefinition in subgraphs/kit/server.ts).
`);
