/**
 * Why a run (or one of its steps) failed, as its members see it: a code and a message without
 * internals (no SQL, no URLs, no stack). `retryable` says whether another attempt could succeed
 * (an upstream hiccup) or not (a forbidden write, a budget used up, bad settings).
 */
export type RunErrorCode =
  | 'FORBIDDEN'
  | 'TIMEOUT'
  | 'MODEL_ERROR'
  | 'MODEL_REQUIRED'
  | 'BUDGET_EXCEEDED'
  | 'CANCELLED'
  | 'UPSTREAM_ERROR'
  | 'INVALID_SETTINGS'
  | 'INTERNAL';

export class RunError extends Error {
  constructor(
    readonly code: RunErrorCode,
    message: string,
    readonly retryable = code === 'UPSTREAM_ERROR' || code === 'TIMEOUT' || code === 'MODEL_ERROR',
  ) {
    super(message);
    this.name = 'RunError';
  }
}

export const isRunError = (error: unknown): error is RunError => error instanceof RunError;
