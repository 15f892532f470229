import { readFileSync } from 'node:fs';

/**
 * The node flags the gateway runs with in production: those of `npm run start:gateway`
 * (package.json), which docker/Dockerfile and docker/compose.yaml repeat (a test checks). The
 * benchmark reads them from here, so it always measures what production starts.
 */
export function productionNodeFlags(): string[] {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
  const words = pkg.scripts['start:gateway']!.split(/\s+/);
  const end = words.indexOf('--import');
  if (words[0] !== 'node' || end < 0) throw new Error('start:gateway must read: node <flags> --import tsx gateway/index.ts');
  return words.slice(1, end);
}
