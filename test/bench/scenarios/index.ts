import { scenarioA } from './a-federation.ts';
import { scenarioB } from './b-supergraph.ts';
import { scenarioC } from './c-ceiling.ts';
import type { Scenario } from './types.ts';

/**
 * The scenarios `npm run bench` knows. To add one: a module exporting a Scenario (targets,
 * request, checker; see types.ts), listed here.
 *
 * Scenarios B (our real supergraph on PostgreSQL and Redis: b-supergraph.ts) and D (the same
 * under 1000 open connections: d-thousand-users.ts) have their own runner, runScenarioB, which
 * run.ts calls for `--scenario B` / `--scenario D`; B is listed here so the load generator finds
 * its response checker by id. Scenario E (chart data over a million fact rows: e-bi.ts) has its
 * own runner too, runScenarioE (`--scenario E`), and no load generator.
 */
export const SCENARIOS: readonly Scenario[] = [scenarioA, scenarioB, scenarioC];

export const PLANNED_SCENARIOS: Readonly<Record<string, string>> = {};
