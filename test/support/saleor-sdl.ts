import { readFileSync } from 'node:fs';

/** Saleor 3.23's federation SDL: the read-only fixture in ../shared (never copied into the repo). */
export const REAL_SALEOR_SDL_PATH = new URL('../../../shared/saleor/saleor-3.23-service-sdl.graphql', import.meta.url);
export const readRealSaleorSdl = () => readFileSync(REAL_SALEOR_SDL_PATH, 'utf8');
