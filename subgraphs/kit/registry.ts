import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CODE_EXT, CODE_ROOT } from './paths.ts';
import type { SubgraphDefinition } from './server.ts';

const SUBGRAPHS_DIR = join(CODE_ROOT, 'subgraphs');
const entryOf = (name: string) => join(SUBGRAPHS_DIR, name, `index${CODE_EXT}`);

/**
 * Every folder under subgraphs/ with an index.ts (other than the kit) is a subgraph: adding one
 * is adding a folder and its schema file, nothing else. (From the production build: index.js.)
 */
export function subgraphNames(): string[] {
  return readdirSync(SUBGRAPHS_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name !== 'kit')
    .filter((entry) => existsSync(entryOf(entry.name)))
    .map((entry) => entry.name)
    .sort();
}

export async function loadSubgraph(name: string): Promise<SubgraphDefinition<unknown>> {
  if (!subgraphNames().includes(name)) {
    throw new Error(`Unknown subgraph "${name}". Known: ${subgraphNames().join(', ')}`);
  }
  const module = (await import(pathToFileURL(entryOf(name)).href)) as { default: SubgraphDefinition<unknown> };
  return module.default;
}

export const loadSubgraphs = () => Promise.all(subgraphNames().map(loadSubgraph));
