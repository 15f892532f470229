/**
 * Apollo's federation packages are TypeScript compiled to CommonJS, and each one's index
 * re-exports its modules through a getter per name (`__exportStar` / `__createBinding`). Every
 * call across packages (`federation_internals_1.isNonNullType(...)`, thousands per query in the
 * executor's result shaping) goes through such a getter: about 5% of the gateway's CPU under
 * load (a CPU profile under scenario A; flattening them bought 7% more throughput). The getters
 * exist for live bindings, which these packages never use: every export is assigned while its
 * module loads.
 *
 * So, before anything else loads them, each index is loaded once and the module cache is given a
 * plain copy (data properties, same values), which every later `require` returns. Import this
 * module first, ahead of `@apollo/gateway` (gateway/server.ts does).
 */
import { createRequire } from 'node:module';

// Resolved from @apollo/gateway's own location, so these are the copies its modules will load.
const require = createRequire(createRequire(import.meta.url).resolve('@apollo/gateway'));

/**
 * Dependencies before their dependents: each index must find the ones it requires already flat.
 * (@apollo/gateway's own modules reach these through their indexes; we call its index rarely.)
 */
const PACKAGES = ['@apollo/federation-internals', '@apollo/query-graphs', '@apollo/query-planner'];

for (const name of PACKAGES) {
  const path = require.resolve(name);
  if (require.cache[path]?.loaded) continue; // someone loaded it already: leave it as it is
  const barrel = require(name) as Record<string, unknown>;
  const flat: Record<string, unknown> = { ...barrel };
  // TypeScript's `import * as` helper checks this flag; without it, it would wrap the copy in getters again.
  Object.defineProperty(flat, '__esModule', { value: true });
  require.cache[path]!.exports = flat;
}
