import { APICallError, RetryError, stepCountIs, streamText, type StepResult, type ToolSet } from 'ai';
import type { TxRunner } from '../../kit/db/database.ts';
import type { AgentModel, GatewayClient, ModelRequest, TokenUsage } from '../analysts/types.ts';
import { RunError } from '../run-error.ts';
import { tenantBudget, type TokenBudget } from './budget.ts';
import { llmProvider, type LlmDeps } from './provider.ts';
import { readTools } from './tools.ts';

/** What a model bound to a run needs of it (the executor has all of it when it builds the context). */
export interface ModelRun {
  tenantId: string;
  accountId: string;
  runId: string;
  gateway: GatewayClient;
  tx: TxRunner;
  signal: AbortSignal;
  progress(percent: number, step: string): Promise<void>;
}

/** Streamed text is reported as progress at most this often. */
const PROGRESS_EVERY_MS = 1_000;
const PROGRESS_EXCERPT = 80;
/** One quick retry of a failed request (429, 5xx, a dropped connection) inside the call; the run's own retries do the rest. */
const SDK_RETRIES = 1;

/**
 * The configured model bound to one run (null without LLM_BASE_URL). Each `generate` streams
 * the answer (reporting its text as progress when the request says at what percent), may give
 * the model the run's read-only gateway tools for up to LLM_MAX_STEPS steps, stops at
 * LLM_TIMEOUT_MS or when the run's signal aborts, and counts every step's tokens against the
 * tenant's daily budget as the step ends. Errors are RunErrors whose messages name no internals:
 * not the endpoint, not the key, not the provider's own words.
 */
export function configuredModel(deps: LlmDeps, run: ModelRun): AgentModel | null {
  const provider = llmProvider(deps);
  const { LLM_MODEL: name, LLM_TIMEOUT_MS: timeoutMs, LLM_MAX_STEPS: maxSteps, AGENTS_DAILY_TOKENS: dailyTokens } = deps.settings;
  if (!provider || !name) return null;
  const budget = tenantBudget(run.tx, run.tenantId, dailyTokens);
  const total: TokenUsage = { inputTokens: 0, outputTokens: 0 };

  async function generate(request: ModelRequest): Promise<{ text: string; usage: TokenUsage }> {
    if (run.signal.aborted) throw cancelled();
    if ((await budget.remaining()) <= 0) throw budgetExceeded(budget);

    const usage: TokenUsage = { inputTokens: 0, outputTokens: 0 };
    const timeout = new AbortController();
    const stop = new AbortController();
    const timer = setTimeout(() => timeout.abort(), timeoutMs);
    let budgetGone = false;
    let accountingError: unknown;

    const result = streamText({
      model: provider!.chatModel(name!),
      system: request.system,
      prompt: request.prompt,
      tools: request.tools ? readTools(run.gateway) : undefined,
      // A step that ends with tool calls leads to another request, unless the budget ran out.
      stopWhen: [stepCountIs(maxSteps), () => budgetGone],
      maxOutputTokens: request.maxOutputTokens,
      maxRetries: SDK_RETRIES,
      abortSignal: AbortSignal.any([run.signal, timeout.signal, stop.signal]),
      // Errors come through the stream below; the default handler would print them.
      onError: () => undefined,
      // Awaited before the next step starts (and before the stop conditions are checked).
      onStepFinish: async (step) => {
        const spent = stepUsage(step);
        usage.inputTokens += spent.inputTokens;
        usage.outputTokens += spent.outputTokens;
        total.inputTokens += spent.inputTokens;
        total.outputTokens += spent.outputTokens;
        try {
          budgetGone = (await budget.add(spent)) <= 0;
        } catch (error) {
          accountingError = error;
          budgetGone = true;
        }
      },
    });

    let text = '';
    let streamError: unknown;
    let finishReason: string | undefined;
    // The run's progress refusing (a cancelled or retried attempt) stops the call with its error.
    let progressError: { error: unknown } | undefined;
    let lastReport = 0;
    let reported = 0;
    let completed = false;
    try {
      for await (const part of result.fullStream) {
        if (part.type === 'start-step') text = '';
        else if (part.type === 'text-delta') {
          text += part.text;
          if (request.progress !== undefined && text.length > reported && Date.now() - lastReport >= PROGRESS_EVERY_MS) {
            lastReport = Date.now();
            reported = text.length;
            await run.progress(request.progress, `Writing: …${excerpt(text)}`).catch((error: unknown) => {
              progressError = { error };
              throw error;
            });
          }
        } else if (part.type === 'finish-step') finishReason = part.finishReason;
        else if (part.type === 'error') streamError ??= part.error;
        else if (part.type === 'tool-error') deps.log.debug({ run: run.runId, tool: part.toolName }, 'llm: a tool call failed');
      }
      completed = true;
    } catch (error) {
      streamError ??= error;
    } finally {
      if (!completed) stop.abort();
      clearTimeout(timer);
    }

    if (run.signal.aborted) throw cancelled();
    if (progressError) throw progressError.error;
    if (timeout.signal.aborted) throw new RunError('TIMEOUT', `The language model did not answer within ${Math.round(timeoutMs / 1000)} s.`);
    if (accountingError) {
      deps.log.error({ run: run.runId, err: (accountingError as Error).message }, 'llm: token usage could not be recorded');
      throw new RunError('INTERNAL', "The model's token use could not be recorded; the run will be retried.", true);
    }
    if (streamError) throw modelError(deps, streamError);
    if (finishReason === 'tool-calls') {
      if (budgetGone) throw budgetExceeded(budget);
      throw new RunError('MODEL_ERROR', `The language model gave no answer within ${maxSteps} steps.`, false);
    }
    if (!text.trim()) throw new RunError('MODEL_ERROR', 'The language model gave an empty answer.');
    return { text, usage };
  }

  return { name, generate, usage: () => ({ ...total }) };
}

const cancelled = () => new RunError('CANCELLED', 'The run was cancelled.', false);

const budgetExceeded = (budget: TokenBudget) =>
  new RunError(
    'BUDGET_EXCEEDED',
    `The tenant's daily language model budget (${budget.limit.toLocaleString('en-US')} tokens) is used up; it renews at midnight UTC.`,
    false,
  );

/** The last characters of `text`, on one line. */
const excerpt = (text: string) => text.slice(-PROGRESS_EXCERPT).replace(/\s+/g, ' ').trim();

/**
 * A step's tokens as the provider reported them; a provider that reports none (some
 * OpenAI-compatible servers, in streams) is estimated at four characters a token, so the budget
 * still counts something.
 */
function stepUsage(step: StepResult<ToolSet>): TokenUsage {
  const estimate = (value: unknown) => Math.ceil((typeof value === 'string' ? value : JSON.stringify(value ?? '')).length / 4);
  return {
    inputTokens: step.usage.inputTokens ?? estimate(step.request.body),
    outputTokens: step.usage.outputTokens ?? estimate(step.text) + (step.toolCalls.length ? estimate(step.toolCalls) : 0),
  };
}

/**
 * A provider failure as members see it: what kind of failure and whether another attempt may
 * help. The log gets the status and the provider's message (the key redacted), never the body.
 */
export function modelError(deps: LlmDeps, error: unknown): RunError {
  const cause = RetryError.isInstance(error) ? error.lastError : error;
  const status = APICallError.isInstance(cause) ? cause.statusCode : undefined;
  const key = deps.settings.LLM_API_KEY;
  let message = cause instanceof Error ? cause.message.slice(0, 300) : String(cause).slice(0, 300);
  if (key) message = message.split(key).join('[redacted]');
  deps.log.warn({ model: deps.settings.LLM_MODEL, status, error: cause instanceof Error ? cause.name : typeof cause, message }, 'llm: the model call failed');

  if (status === 401 || status === 403) return new RunError('MODEL_ERROR', 'The language model service refused the configured credentials (LLM_API_KEY).', false);
  if (status === 429) return new RunError('MODEL_ERROR', 'The language model service is limiting requests; the run will be retried.');
  if (status !== undefined && status >= 500) return new RunError('MODEL_ERROR', `The language model service failed (HTTP ${status}); the run will be retried.`);
  if (status !== undefined) return new RunError('MODEL_ERROR', `The language model service refused the request (HTTP ${status}); check LLM_MODEL.`, false);
  if (APICallError.isInstance(cause)) return new RunError('MODEL_ERROR', 'The language model service cannot be reached; the run will be retried.');
  return new RunError('MODEL_ERROR', "The language model's answer could not be read; the run will be retried.");
}
