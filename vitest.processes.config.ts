import { configDefaults, defineConfig } from 'vitest/config';
import base, { PROCESS_TESTS } from './vitest.config.ts';

/** `npm run test:processes`: the fault, load and process tests that `npm test` leaves out (vitest.config.ts). */
export default defineConfig({ ...base, test: { ...base.test, include: PROCESS_TESTS, exclude: [...configDefaults.exclude] } });
