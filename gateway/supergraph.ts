import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError, subgraphUrl } from '../subgraphs/kit/config.ts';
import { REPO_ROOT, repoPath } from '../subgraphs/kit/paths.ts';

// supergraph.yaml and schema/ are resolved from the repository root, not from the cwd.
export const SUPERGRAPH_YAML = repoPath('supergraph.yaml');
export const SUPERGRAPH_SDL = repoPath('schema/supergraph.graphql');

export interface SubgraphEntry {
  name: string;
  /** routing_url from supergraph.yaml (what composition writes into the supergraph). */
  routingUrl: string;
  /** Absolute path of its schema file. */
  schemaFile: string;
}

export interface SupergraphConfig {
  federationVersion: string;
  subgraphs: SubgraphEntry[];
}

/**
 * supergraph.yaml as `npm run compose` writes it: each subgraph's routing URL and schema file
 * from its definition (name and port), so they are written once, in subgraphs/<name>/index.ts.
 * The file stays in rover's format for tools that read it; tests fail when it is stale.
 */
export function supergraphYaml(subgraphs: readonly { name: string; port: number }[], federationVersion: string): string {
  const entries = subgraphs.map(
    ({ name, port }) => `  ${name}:\n    routing_url: http://127.0.0.1:${port}/graphql\n    schema: { file: schema/${name}.graphql }\n`,
  );
  return [
    '# Written by `npm run compose` from the subgraph definitions (subgraphs/<name>/index.ts: name and\n',
    '# port; schema/<name>.graphql): change those, not this file. Rover-compatible. At run time\n',
    '# <NAME>_URL overrides a routing_url. federation_version is the installed @apollo/composition.\n',
    `federation_version: =${federationVersion}\n`,
    'subgraphs:\n',
    ...entries,
  ].join('');
}

/** Reads supergraph.yaml (rover format). Throws a one-line ConfigError on a malformed file. */
export function readSupergraphConfig(file = SUPERGRAPH_YAML): SupergraphConfig {
  const raw = parseYaml(readFileSync(file, 'utf8')) as {
    federation_version?: unknown;
    subgraphs?: Record<string, { routing_url?: unknown; schema?: { file?: unknown } }>;
  };
  if (!raw?.subgraphs || typeof raw.subgraphs !== 'object') throw new ConfigError(`${file}: no subgraphs`);
  const subgraphs = Object.entries(raw.subgraphs).map(([name, entry]) => {
    if (typeof entry?.routing_url !== 'string' || typeof entry.schema?.file !== 'string') {
      throw new ConfigError(`${file}: subgraph ${name} needs routing_url and schema.file`);
    }
    return { name, routingUrl: entry.routing_url, schemaFile: resolve(REPO_ROOT, entry.schema.file) };
  });
  return { federationVersion: String(raw.federation_version ?? ''), subgraphs };
}

/**
 * Where the gateway reaches each subgraph at run time: supergraph.yaml's routing_url, overridden
 * by `<NAME>_URL`; for saleor, `SALEOR_API_URL` (a real Saleor) wins over both.
 */
export function resolveSubgraphUrls(
  subgraphs: readonly SubgraphEntry[],
  env: Record<string, string | undefined> = process.env,
): Record<string, string> {
  const urls: Record<string, string> = {};
  for (const { name, routingUrl } of subgraphs) urls[name] = subgraphUrl(name, routingUrl, env);
  if (env.SALEOR_API_URL && 'saleor' in urls) urls.saleor = env.SALEOR_API_URL;
  return urls;
}

/**
 * `http://host:port/graphql` -> `http://host:port/health` (every subgraph serves both). A trailing
 * slash is kept: a real Saleor serves `/graphql/` and `/health/`.
 */
export function healthUrl(graphqlUrl: string): string {
  const url = new URL(graphqlUrl);
  const slash = url.pathname.endsWith('/') ? '/' : '';
  url.pathname = url.pathname.replace(/\/graphql\/?$/, '').replace(/\/$/, '') + '/health' + slash;
  url.search = '';
  return url.toString();
}
