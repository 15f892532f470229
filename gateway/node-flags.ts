import { readFileSync } from 'node:fs';
import { repoPath } from '../subgraphs/kit/paths.ts';

/** The gateway's entry point in the production build (`npm run build`, tsconfig.build.json). */
export const PRODUCTION_ENTRY = 'build/gateway/index.js';

/**
 * The node flags the gateway runs with in production: those of `npm run start:gateway`
 * (package.json), which docker/Dockerfile and docker/compose.yaml repeat (a test checks). The
 * benchmark reads them from here, so it always measures what production starts.
 */
export function productionNodeFlags(): string[] {
  const pkg = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { scripts: Record<string, string> };
  const words = pkg.scripts['start:gateway']!.split(/\s+/);
  if (words[0] !== 'node' || words.at(-1) !== PRODUCTION_ENTRY) throw new Error(`start:gateway must read: node <flags> ${PRODUCTION_ENTRY}`);
  return words.slice(1, -1);
}
