import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CODE_EXT, CODE_ROOT } from './paths.ts';
import { ConfigError } from './config.ts';
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
    throw new ConfigError(`Unknown subgraph "${name}". Known: ${subgraphNames().join(', ')}`);
  }
  const module = (await import(pathToFileURL(entryOf(name)).href)) as { default: SubgraphDefinition<unknown> };
  return module.default;
}

/**
 * Every subgraph, in the order their migrations and demo data run (inDependencyOrder): what
 * `npm start`, `npm run db:migrate` and the tests apply, so all of them use the same order.
 */
export const loadSubgraphs = async () => inDependencyOrder(await Promise.all(subgraphNames().map(loadSubgraph)));

/**
 * A subgraph's dependsOn names one that does not exist, or the subgraphs depend on each other in
 * a cycle: the operator's to fix, so a command's start-up ends with its one line
 * (`exitOnConfigError`), like a bad setting.
 */
export class SubgraphDependencyError extends ConfigError {
  override name = 'SubgraphDependencyError';
}

/** What ordering needs of a subgraph definition. */
export interface Dependent {
  name: string;
  dependsOn?: readonly string[];
}

/**
 * The subgraphs with each one after those it depends on (SubgraphDefinition.dependsOn): a table
 * of crm references auth.memberships, so auth's migrations must run first, whatever the names'
 * alphabetical order (agents and bi sort before auth). Among subgraphs whose dependencies are all
 * placed, the alphabetically first comes next, so the order is stable. An unknown name or a
 * cycle throws, in one line.
 */
export function inDependencyOrder<T extends Dependent>(subgraphs: readonly T[]): T[] {
  const byName = new Map(subgraphs.map((subgraph) => [subgraph.name, subgraph]));
  const dependencies = (subgraph: T) => [...new Set(subgraph.dependsOn ?? [])].sort();
  for (const subgraph of [...subgraphs].sort(byNameOrder)) {
    const unknown = dependencies(subgraph).find((name) => !byName.has(name));
    if (unknown !== undefined) throw new SubgraphDependencyError(`Subgraph "${subgraph.name}" depends on unknown subgraph "${unknown}"`);
  }
  const placed = new Set<string>();
  const ordered: T[] = [];
  let waiting = [...subgraphs].sort(byNameOrder);
  while (waiting.length) {
    const next = waiting.find((subgraph) => dependencies(subgraph).every((name) => placed.has(name)));
    if (!next) throw new SubgraphDependencyError(`Subgraph dependency cycle: ${cycleAmong(waiting, dependencies).join(' -> ')}`);
    ordered.push(next);
    placed.add(next.name);
    waiting = waiting.filter((subgraph) => subgraph !== next);
  }
  return ordered;
}

const byNameOrder = (a: Dependent, b: Dependent) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * A cycle among subgraphs none of which can be placed: each waits for another of them, so
 * following the first waited-for one from the first subgraph must come back to a name already
 * seen. Returns the path from that name back to itself (`a -> b -> a`).
 */
function cycleAmong<T extends Dependent>(waiting: readonly T[], dependencies: (subgraph: T) => string[]): string[] {
  const byName = new Map(waiting.map((subgraph) => [subgraph.name, subgraph]));
  const path: string[] = [];
  let current = waiting[0]!;
  while (!path.includes(current.name)) {
    path.push(current.name);
    current = byName.get(dependencies(current).find((name) => byName.has(name))!)!;
  }
  return [...path.slice(path.indexOf(current.name)), current.name];
}
