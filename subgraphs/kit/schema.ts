import { readFileSync } from 'node:fs';
import { parse, type DocumentNode } from 'graphql';
import { repoPath } from './paths.ts';

/** A subgraph's SDL lives in schema/<name>.graphql (the file composition and codegen read). */
export function loadSchema(name: string): DocumentNode {
  return parse(readFileSync(repoPath(`schema/${name}.graphql`), 'utf8'));
}
