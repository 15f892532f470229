import { existsSync, readdirSync } from 'node:fs';
import type { SubgraphDefinition } from './server.ts';
import { REPO_ROOT } from './schema.ts';

/**
 * Every folder under subgraphs/ with an index.ts (other than the kit) is a subgraph: adding one
 * is adding a folder and its schema file, nothing else.
 */
export function subgraphNames(): string[] {
  return readdirSync(`${REPO_ROOT}subgraphs`, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name !== 'kit')
    .filter((entry) => existsSync(`${REPO_ROOT}subgraphs/${entry.name}/index.ts`))
    .map((entry) => entry.name)
    .sort();
}

export async function loadSubgraph(name: string): Promise<SubgraphDefinition<unknown>> {
  if (!subgraphNames().includes(name)) {
    throw new Error(`Unknown subgraph "${name}". Known: ${subgraphNames().join(', ')}`);
  }
  const module = (await import(`${REPO_ROOT}subgraphs/${name}/index.ts`)) as { default: SubgraphDefinition<unknown> };
  return module.default;
}

export const loadSubgraphs = () => Promise.all(subgraphNames().map(loadSubgraph));
