import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { composeServices, type CompositionSuccess } from '@apollo/composition';
import { parse, type GraphQLError } from 'graphql';
import { REPO_ROOT, repoPath } from '../subgraphs/kit/paths.ts';
import { loadSubgraphs } from '../subgraphs/kit/registry.ts';
import { readSupergraphConfig, SUPERGRAPH_SDL, SUPERGRAPH_YAML, supergraphYaml } from './supergraph.ts';

/**
 * `npm run compose`: the subgraph definitions -> supergraph.yaml -> schema/supergraph.graphql, the
 * same way `rover supergraph compose` would, with the @apollo/composition version pinned in
 * package.json (no binary download).
 */

type CompositionHint = CompositionSuccess['hints'][number];

export interface SubgraphSource {
  name: string;
  url: string;
  sdl: string;
}

export interface ComposeResult {
  supergraphSdl: string | undefined;
  errors: readonly GraphQLError[];
  hints: readonly CompositionHint[];
}

/** Composes SDL strings; parse errors are reported as composition errors, not thrown. */
export function composeSdl(sources: readonly SubgraphSource[]): ComposeResult {
  try {
    const result = composeServices(sources.map((s) => ({ name: s.name, url: s.url, typeDefs: parse(s.sdl) })));
    return { supergraphSdl: result.supergraphSdl, errors: result.errors ?? [], hints: result.hints ?? [] };
  } catch (error) {
    return { supergraphSdl: undefined, errors: [error as GraphQLError], hints: [] };
  }
}

export interface ComposeOptions {
  /** Subgraph name -> SDL used instead of its schema file (e.g. the real Saleor's SDL). */
  replace?: Record<string, string | undefined>;
  /** supergraph.yaml path (tests). */
  configFile?: string;
}

/** Composes what supergraph.yaml lists; a missing schema file is a clear error. */
export function composeSupergraph(options: ComposeOptions = {}): ComposeResult {
  const { subgraphs } = readSupergraphConfig(options.configFile ?? SUPERGRAPH_YAML);
  const sources: SubgraphSource[] = [];
  for (const s of subgraphs) {
    const replacement = options.replace?.[s.name];
    if (replacement === undefined && !existsSync(s.schemaFile)) {
      throw new Error(`subgraph ${s.name}: schema file ${relative(REPO_ROOT, s.schemaFile)} does not exist`);
    }
    sources.push({ name: s.name, url: s.routingUrl, sdl: replacement ?? readFileSync(s.schemaFile, 'utf8') });
  }
  return composeSdl(sources);
}

export function installedCompositionVersion(): string {
  const pkg = JSON.parse(readFileSync(repoPath('node_modules/@apollo/composition/package.json'), 'utf8'));
  return String(pkg.version);
}

async function main(): Promise<number> {
  let subgraphs;
  try {
    subgraphs = await loadSubgraphs();
  } catch (error) {
    process.stderr.write(`compose failed: ${(error as Error).message}\n`);
    return 1;
  }
  writeFileSync(SUPERGRAPH_YAML, supergraphYaml(subgraphs, installedCompositionVersion()));
  let result: ComposeResult;
  try {
    result = composeSupergraph();
  } catch (error) {
    process.stderr.write(`compose failed: ${(error as Error).message}\n`);
    return 1;
  }
  if (result.errors.length || !result.supergraphSdl) {
    process.stderr.write(`compose failed with ${result.errors.length} error(s):\n`);
    for (const error of result.errors) process.stderr.write(`  - ${error.message}\n`);
    return 1;
  }
  for (const hint of result.hints) process.stderr.write(`hint: ${hint.toString()}\n`);
  writeFileSync(SUPERGRAPH_SDL, result.supergraphSdl.endsWith('\n') ? result.supergraphSdl : `${result.supergraphSdl}\n`);
  process.stdout.write(`wrote ${relative(REPO_ROOT, SUPERGRAPH_YAML)} and ${relative(REPO_ROOT, SUPERGRAPH_SDL)} (${result.hints.length} hint(s))\n`);
  return 0;
}

// Run only as the `npm run compose` entry point, not when imported by the gateway or tests.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main();
}
