import type { Tx } from '../../kit/db/database.ts';
import type { SubgraphDeps } from '../../kit/deps.ts';
import { JobAborted, sendJob, type JobContext } from '../../kit/jobs/index.ts';
import type { AgentKind, AnalystContext, InsightDraft, TokenUsage } from '../analysts/types.ts';
import { runCredentials } from '../credentials.ts';
import { createGatewayClient } from '../gateway-client.ts';
import { insightEmbeddings } from '../embeddings.ts';
import { addNarrative, configuredModel } from '../llm/index.ts';
import { isRunError, RunError } from '../run-error.ts';
import type { AgentsSettings } from '../settings.ts';
import { withRunEvents, type RunEventBatch } from './events.ts';
import { kindDefinition } from './kinds.ts';
import { runQueue, type RunJob } from './queue.ts';
import * as store from './store.ts';

/*
 * The handler of `agents-run` jobs: one attempt of a run.
 *
 * 1. Begin (one transaction, the run locked): nothing when the job is no longer the run's or the
 *    run has finished; FAILED when its attempts are used up (its last attempt's process died);
 *    when the tenant already has AGENTS_TENANT_CONCURRENCY runs RUNNING, the run waits: a new
 *    job for it, a few seconds later, becomes its job in the same transaction and this one
 *    completes (so a waiting run is never lost, whatever dies when, and waiting costs it no
 *    attempt: attempts are counted on the run row, not pg-boss's retries); else RUNNING with
 *    attempts + 1.
 * 2. The kind runs with the AnalystContext: the run member's credentials at the gateway, the
 *    tenant transaction, progress and log events, the signal, the model when one is configured.
 * 3. End (one transaction): the insights with their embeddings, SUCCEEDED and the token usage,
 *    only while the run is still RUNNING with this attempt: a cancelled run, or an attempt that
 *    outlived its expiry and was retried, writes nothing.
 * Failures: a RunError that is not retryable is FAILED at once; anything else is QUEUED again
 * with its error and thrown, so pg-boss retries it with backoff, and the last attempt's failure
 * is FAILED with that error. Codes and messages are the RunError's; an unexpected error is
 * logged and shown as INTERNAL without its text.
 */

export type RunDeps = Pick<SubgraphDeps<AgentsSettings>, 'db' | 'redis' | 'config' | 'env' | 'log' | 'settings'>;
type Job = Pick<JobContext<RunJob>, 'id' | 'tenantId' | 'data' | 'tx' | 'signal'>;

/** How long a run whose tenant has no free slot waits before it looks again (plus jitter). */
const SLOT_WAIT_SECONDS = 3;

/** Kinds a configured model adds a narrative to: the analysts (the writer's output is the model's already). */
const NARRATED: ReadonlySet<string> = new Set(['LEAD_SCORER', 'PIPELINE_ANALYST', 'CONTENT_AUDITOR', 'SALES_SUMMARY']);

type Begun = { kind: 'skip' } | { kind: 'wait' } | { kind: 'start'; run: store.RunRow };

async function begin(deps: RunDeps, job: Job, tx: Tx, events: RunEventBatch): Promise<Begun> {
  const settings = deps.settings;
  const run = await store.runForUpdate(tx, job.data.runId);
  if (!run || run.job_id !== job.id || store.FINISHED.includes(run.status)) return { kind: 'skip' };
  // RUNNING when a job starts: its last attempt stopped without an answer (its process died).
  const interrupted = run.status === 'RUNNING';
  if (run.attempts >= settings.AGENTS_RUN_ATTEMPTS) {
    const message = interrupted
      ? 'The run stopped without finishing on each of its attempts.'
      : (run.error_message ?? 'The run failed on each of its attempts.');
    await fail(run.id, null, tx, events, interrupted ? 'TIMEOUT' : (run.error_code ?? 'INTERNAL'), message);
    return { kind: 'skip' };
  }
  await store.lockTenantSlots(tx);
  if ((await store.runningCount(tx, run.id)) >= settings.AGENTS_TENANT_CONCURRENCY) {
    const jobId = await sendJob(tx, runQueue(settings), { runId: run.id }, { startAfter: SLOT_WAIT_SECONDS + Math.random() * 2 });
    await store.setRunJob(tx, run.id, jobId);
    if (!run.step) {
      await store.setStep(tx, run.id, "Waiting for the tenant's other runs to finish");
      await events.append(tx, run.id, { type: 'LOG', message: "Waiting for the tenant's other runs to finish." });
    }
    return { kind: 'wait' };
  }
  if (interrupted) await events.append(tx, run.id, { type: 'LOG', message: `Attempt ${run.attempts} stopped without finishing; trying again.` });
  const started = await store.startAttempt(tx, run.id);
  await events.append(tx, run.id, { type: 'STATUS', status: 'RUNNING', data: { attempt: started.attempts } });
  return { kind: 'start', run: started };
}

/**
 * FAILED with its event (only while `attempt` is the run's, or whatever attempt for null); a
 * CANCELLED error (the agent was deleted) ends it CANCELLED.
 */
async function fail(runId: string, attempt: number | null, tx: Tx, events: RunEventBatch, code: string, message: string, tokens?: TokenUsage | null) {
  const status = code === 'CANCELLED' ? 'CANCELLED' : 'FAILED';
  const ended = await store.endAttempt(tx, runId, attempt, { status, errorCode: code, errorMessage: message, tokens });
  if (ended) await events.append(tx, runId, { type: 'STATUS', status, message, data: { code } });
  return ended;
}

/** Keeps a kind's insight inside the table's limits (a title of 200, a body of 20,000 characters). */
const clipped = (draft: InsightDraft): InsightDraft => ({
  ...draft,
  title: draft.title.trim().slice(0, 200) || 'Insight',
  body: draft.body.slice(0, 20_000),
});

/** What a failure is to the run: a RunError as the member may see it. */
function runErrorOf(deps: RunDeps, job: Job, error: unknown): RunError {
  const reason: unknown = job.signal.aborted ? job.signal.reason : undefined;
  if (reason instanceof JobAborted && reason.kind === 'expired') {
    return new RunError('TIMEOUT', `The run did not finish within ${deps.settings.AGENTS_RUN_TIMEOUT_SECONDS} s.`, true);
  }
  if (isRunError(error)) return error;
  deps.log.error({ tenant: job.tenantId, run: job.data.runId, err: error }, 'agents: a run failed unexpectedly');
  return new RunError('INTERNAL', 'The run failed unexpectedly.', true);
}

/** The `agents-run` handler (see above). */
export async function executeRun(deps: RunDeps, job: Job): Promise<void> {
  const { tenantId } = job;
  const inTx = <T>(fn: (tx: Tx, events: RunEventBatch) => Promise<T>) => withRunEvents(deps, tenantId, job.tx, fn);
  const begun = await inTx((tx, events) => begin(deps, job, tx, events));
  if (begun.kind !== 'start') return;
  const run = begun.run;
  const attempt = run.attempts;
  let tokens: () => TokenUsage | null = () => null;

  try {
    const definition = kindDefinition(run.kind);
    if (!definition) throw new RunError('INVALID_SETTINGS', 'This kind of agent is not available here.', false);
    const agent = run.agent_id ? await job.tx((tx) => store.agentById(tx, run.agent_id!)) : null;
    if (!agent) throw new RunError('CANCELLED', 'The agent was deleted.', false);
    const parsed = definition.settings.safeParse(agent.settings);
    if (!parsed.success) throw new RunError('INVALID_SETTINGS', "The agent's settings are not valid for its kind; edit them and run it again.", false);
    if (!run.started_by) throw new RunError('FORBIDDEN', 'The member this run acts as is no longer a member of the tenant.', false);

    const accountId = run.started_by;
    /** Only while this attempt is the run's: else the run was cancelled or retried, and this one stops. */
    const stillOurs = async (fn: (tx: Tx, events: RunEventBatch) => Promise<boolean>) => {
      job.signal.throwIfAborted();
      if (!(await inTx(fn))) throw new RunError('CANCELLED', 'The run was cancelled.', false);
    };
    const progress = (percent: number, step: string) => {
      const value = Math.max(0, Math.min(100, Math.round(percent)));
      const message = step.slice(0, 500);
      return stillOurs(async (tx, events) => {
        if (!(await store.setProgress(tx, run.id, attempt, value, message))) return false;
        await events.append(tx, run.id, { type: 'PROGRESS', progress: value, message });
        return true;
      });
    };
    const log = (message: string, data?: Record<string, unknown>) =>
      stillOurs(async (tx, events) => {
        if (!(await store.holdsAttempt(tx, run.id, attempt))) return false;
        await events.append(tx, run.id, { type: 'LOG', message, data: data ?? null });
        return true;
      });
    const credentials = runCredentials(deps, { tenantId, accountId });
    const gateway = createGatewayClient(deps, credentials, job.signal);
    const model = configuredModel(deps, { tenantId, accountId, runId: run.id, gateway, tx: job.tx, signal: job.signal, progress });
    // The model counts every call's tokens, failed ones included: the run's usage.
    if (model) tokens = () => model.usage();
    const ctx: AnalystContext = {
      tenantId,
      accountId,
      runId: run.id,
      settings: parsed.data,
      input: run.input as AnalystContext['input'],
      gateway,
      tx: job.tx,
      signal: job.signal,
      progress,
      log,
      model,
      now: new Date(),
    };

    let result = await definition.run(ctx);
    if (ctx.model && NARRATED.has(run.kind)) result = await addNarrative(ctx, run.kind as AgentKind, result);
    job.signal.throwIfAborted();

    const insights = result.insights.map(clipped);
    const embeddings = await insightEmbeddings(deps, insights);
    job.signal.throwIfAborted();

    const done = await inTx(async (tx, events) => {
      if (!(await store.holdsAttempt(tx, run.id, attempt))) return false;
      for (const [i, insight] of insights.entries()) {
        const id = await store.insertInsight(tx, run, insight, embeddings[i]!);
        await events.append(tx, run.id, { type: 'INSIGHT', message: insight.title, data: { insightId: id, kind: insight.kind, severity: insight.severity } });
      }
      await store.endAttempt(tx, run.id, attempt, { status: 'SUCCEEDED', progress: 100, step: 'Done', tokens: tokens() });
      await store.wakeWaitingRun(tx);
      await events.append(tx, run.id, { type: 'STATUS', status: 'SUCCEEDED', progress: 100, data: { insights: insights.length } });
      return true;
    });
    if (!done) deps.log.info({ tenant: tenantId, run: run.id, attempt }, 'agents: a run attempt finished after it was cancelled or retried; nothing written');
  } catch (error) {
    const reason: unknown = job.signal.aborted ? job.signal.reason : undefined;
    // Cancelled (the run is CANCELLED already) or no longer this attempt's: nothing to write.
    if (reason instanceof JobAborted && (reason.kind === 'cancelled' || reason.kind === 'lost')) return;
    // The process is stopping: as if it had died, the run stays RUNNING and its job's retry
    // (after a failure, or its expiry if even that is not recorded) takes it up again.
    if (reason instanceof JobAborted && reason.kind === 'shutdown') throw reason;
    const failure = runErrorOf(deps, job, error);
    const last = !failure.retryable || attempt >= deps.settings.AGENTS_RUN_ATTEMPTS;
    const retrying = await inTx(async (tx, events) => {
      // This attempt's slot is free either way.
      await store.wakeWaitingRun(tx);
      if (last) {
        await fail(run.id, attempt, tx, events, failure.code, failure.message, tokens());
        return false;
      }
      const requeued = await store.endAttempt(tx, run.id, attempt, {
        status: 'QUEUED',
        errorCode: failure.code,
        errorMessage: failure.message,
        tokens: tokens(),
      });
      if (!requeued) return false;
      await events.append(tx, run.id, { type: 'LOG', message: `Attempt ${attempt} failed: ${failure.message} Trying again.`, data: { code: failure.code } });
      await events.append(tx, run.id, { type: 'STATUS', status: 'QUEUED' });
      return true;
    });
    // pg-boss retries the job with backoff; its next attempt begins from the row.
    if (retrying) throw failure;
  }
}
