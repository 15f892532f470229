import type { Logger } from './logger.ts';

/**
 * For process entry points: an exception nothing caught (or a rejected promise nothing handled,
 * which Node turns into one) is logged as one JSON line through the process's logger, not Node's
 * plain-text stack on stderr, and the process exits 1 (its state is unknown; the supervisor,
 * docker or the gateway's cluster primary, starts another). pino flushes on exit.
 */
export function logFatalErrors(log: Logger): void {
  process.on('uncaughtException', (error, origin) => {
    log.fatal({ err: error, origin }, 'uncaught exception: exiting');
    process.exit(1);
  });
}
