import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse, type DocumentNode } from 'graphql';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A subgraph's SDL lives in schema/<name>.graphql (the file composition and codegen read). */
export function loadSchema(name: string): DocumentNode {
  return parse(readFileSync(`${REPO_ROOT}schema/${name}.graphql`, 'utf8'));
}
