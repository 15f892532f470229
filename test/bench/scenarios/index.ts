import { scenarioA } from './a-federation.ts';
import { scenarioC } from './c-ceiling.ts';
import type { Scenario } from './types.ts';

/**
 * The scenarios `npm run bench` knows. To add one: a module exporting a Scenario (targets,
 * request, checker; see types.ts), listed here.
 *
 * Not built yet (issue 5, later parts), deliberately absent rather than stubbed:
 * - TODO Scenario B: our real supergraph (saleor stand-in, auth, CRM, CMS subgraphs) on
 *   PostgreSQL and Redis, a realistic authenticated query mix; needs a JWT per tenant and seeded
 *   data, and a checker that compares against direct SQL reads.
 * - TODO Scenario D: the same supergraph with the subgraphs' Redis response cache on (hit ratio,
 *   latency with and without cache), and writes invalidating it.
 */
export const SCENARIOS: readonly Scenario[] = [scenarioA, scenarioC];

export const PLANNED_SCENARIOS: Readonly<Record<string, string>> = {
  B: 'our real supergraph (CRM/CMS) against PostgreSQL and Redis: not built yet (issue 5, later part)',
  D: 'our real supergraph with the subgraph response cache: not built yet (issue 5, later part)',
};
