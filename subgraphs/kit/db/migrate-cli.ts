import { exitOnConfigError, loadConfig } from '../config.ts';
import { createDeps, migrateDatabase, seedDemoData } from '../deps.ts';
import { loadSubgraphs } from '../registry.ts';

// `npm run db:migrate`: applies every subgraph's migrations as the owner
// (DATABASE_OWNER_URL, else DATABASE_URL; embedded PGlite when neither is set), then writes the
// demo data when DEMO_DATA is on (by default everywhere but production).
const config = loadConfig();
// In dependency order; a cycle or an unknown name in dependsOn stops here, in one line.
const subgraphs = await loadSubgraphs().catch(exitOnConfigError);
const deps = await createDeps(config, 'migrate');
await migrateDatabase(config, deps.db, subgraphs.flatMap((s) => (s.migrations ? [s.migrations] : [])));
await seedDemoData(config, subgraphs);
console.log(`migrated: ${subgraphs.filter((s) => s.migrations).map((s) => s.name).join(', ')}`);
await deps.db.close();
process.exit(0);
