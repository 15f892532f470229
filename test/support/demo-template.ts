/*
 * The demo database, built once a run: every subgraph's migrations and demo data applied to one
 * PostgreSQL database that test files then copy (`CREATE DATABASE ... TEMPLATE`) instead of
 * migrating and seeding their own (about 2 s of CPU a file, most of it the demo passwords' hashes
 * and the migrations' DDL; a copy takes a fraction of that). Only for the whole supergraph on
 * real PostgreSQL with the default demo settings: a file that starts a subset of the subgraphs,
 * its own subgraph, embedded PGlite or a setting the demo data read (`SEED_SETTINGS`) migrates
 * and seeds as before, so the migrations and seeds themselves stay exercised (kit-migrations,
 * db-setup and start.test.ts run them from scratch too).
 */
import { inject } from 'vitest';
import { loadSubgraphs } from '../../subgraphs/kit/registry.ts';
import type { SubgraphDefinition } from '../../subgraphs/kit/server.ts';
import type { TestBackends } from './deps.ts';

/**
 * The settings the demo data read (the demo password's hash, where bi's demo order facts are read
 * from): a file that sets one of them seeds its own. A seed that reads another must add it here.
 */
export const SEED_SETTINGS = ['DEMO_PASSWORD', 'SALEOR_API_URL', 'SALEOR_APP_TOKEN', 'SALEOR_URL', 'SALEOR_PORT'] as const;

export interface DemoTemplate {
  /** The database to copy. */
  name: string;
  /** The subgraphs it holds, in the order they were migrated and seeded. */
  subgraphs: string[];
}

declare module 'vitest' {
  interface ProvidedContext {
    demoTemplate: DemoTemplate | null;
  }
}

/** Migrations, then each subgraph's demo data in order: what `npm start` applies at its start. */
export async function applyDemoData(backends: TestBackends, definitions: SubgraphDefinition<any>[]): Promise<void> {
  await backends.migrate(definitions.flatMap((d) => (d.migrations ? [d.migrations] : [])));
  for (const definition of definitions) await definition.seed?.(backends.deps(definition.name));
}

/** Builds the demo database on real PostgreSQL (global-setup); `drop` removes it after the run. */
export async function buildDemoTemplate(): Promise<{ template: DemoTemplate; drop(): Promise<void> }> {
  const { createTestBackends } = await import('./deps.ts');
  const definitions = await loadSubgraphs();
  const backends = await createTestBackends();
  const name = backends.database.name!;
  try {
    await applyDemoData(backends, definitions);
  } finally {
    // Connections closed, database kept: a template cannot be copied while anyone is connected.
    await backends.close({ keepDatabase: true });
  }
  return { template: { name, subgraphs: definitions.map((d) => d.name) }, drop: () => backends.database.drop() };
}

/**
 * The demo database to copy for these subgraphs and settings, or null to migrate and seed: only
 * inside vitest (scripts under test/bench share this code), for the registry's own subgraph
 * definitions (not a copy with another seed or migrations), all of them in its order, with none
 * of `SEED_SETTINGS` overridden.
 */
export async function demoTemplateFor(definitions: SubgraphDefinition<any>[], overrides: Record<string, string>): Promise<DemoTemplate | null> {
  let template: DemoTemplate | null;
  try {
    template = inject('demoTemplate') ?? null;
  } catch {
    return null;
  }
  if (!template || SEED_SETTINGS.some((key) => key in overrides)) return null;
  const registry = await loadSubgraphs();
  const same = definitions.length === registry.length && definitions.every((definition, i) => definition === registry[i]);
  return same && registry.every((definition, i) => definition.name === template!.subgraphs[i]) ? template : null;
}
