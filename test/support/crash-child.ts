import { logFatalErrors } from '../../subgraphs/kit/crash.ts';
import { createLogger } from '../../subgraphs/kit/logger.ts';

// For fuzz.test.ts: a process with the entry points' crash handler that then fails the way argv[2]
// says (`throw`: an uncaught exception; `reject`: an unhandled rejection).
logFatalErrors(createLogger({ LOG_LEVEL: 'info' }, 'crash-child'));
setTimeout(() => {
  if (process.argv[2] === 'reject') void Promise.reject(new RangeError('Maximum call stack size exceeded'));
  else throw new RangeError('Maximum call stack size exceeded');
}, 0);
setTimeout(() => undefined, 5_000); // (exits long before)
