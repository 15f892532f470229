import { z } from 'zod';

/**
 * How agent runs are worked (part of the agents subgraph's `settings`, subgraphs/agents/settings.ts).
 * Runs are jobs of the kit's job system (kit/jobs): these bound how many run at once, how many a
 * tenant may start per UTC day, how long one attempt may take and how often a failing run is tried.
 */
export const runSettings = z.object({
  /** Runs one process works at once (all tenants together). Default 2. */
  AGENTS_RUN_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  /** Runs of one tenant RUNNING at once, across every process; the others wait QUEUED. Default 1. */
  AGENTS_TENANT_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  /** Runs a tenant may start per UTC day, manual and scheduled together (QUOTA_EXCEEDED beyond). Default 200. */
  AGENTS_DAILY_RUNS: z.coerce.number().int().min(1).max(1_000_000).default(200),
  /**
   * How long one attempt may run, in seconds (TIMEOUT past it, then a retry). Also how long a run
   * whose process died waits before another process retries it. Default 600.
   */
  AGENTS_RUN_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(86_400).default(600),
  /** Attempts of a run whose failure may pass (an upstream hiccup, a timeout, a crash) before it is FAILED. Default 3. */
  AGENTS_RUN_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
  /** Seconds before the first retry; each next one waits about twice as long (with jitter). Default 30. */
  AGENTS_RUN_RETRY_DELAY_SECONDS: z.coerce.number().int().min(1).max(3_600).default(30),
});

export type RunSettings = z.infer<typeof runSettings>;
