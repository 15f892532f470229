import { readFileSync } from 'node:fs';
import { repoPath } from '../../subgraphs/kit/paths.ts';

/**
 * Saleor 3.23's federation SDL, kept in the repository as a read-only fixture (what it is and
 * where it comes from: test/fixtures/saleor/README.md). Our subgraphs must compose with it in
 * place of the stand-in, and the stand-in's schema must stay a subset of it.
 */
const REAL_SALEOR_SDL_PATH = repoPath('test/fixtures/saleor/saleor-3.23-service-sdl.graphql');

export const readRealSaleorSdl = () => readFileSync(REAL_SALEOR_SDL_PATH, 'utf8');
