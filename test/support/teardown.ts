/** How long a teardown step may run before it says so (vitest's hookTimeout is 60 s). */
const SLOW_STEP_MS = 20_000;

/**
 * Runs one step of a test teardown. A step still running after 20 s writes one line to stderr
 * naming it, with `detail()` (pool counts, say), so a hook that times out tells which step hung;
 * CI once timed out in an afterAll that no local run reproduced.
 */
export async function teardownStep<T>(name: string, run: () => Promise<T>, detail?: () => string): Promise<T> {
  const timer = setTimeout(() => {
    console.error(`teardown: ${name} still running after ${SLOW_STEP_MS / 1000} s${detail ? ` (${detail()})` : ''}`);
  }, SLOW_STEP_MS);
  timer.unref();
  try {
    return await run();
  } finally {
    clearTimeout(timer);
  }
}
