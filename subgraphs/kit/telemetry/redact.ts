import { SpanStatusCode, type Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';

/** The instrumentation whose error statuses are rewritten. */
export const PG_SCOPE = '@opentelemetry/instrumentation-pg';

/**
 * pg's instrumentation puts the driver's error message in a failed statement's span status, and
 * PostgreSQL's messages can quote the value that failed (`invalid input syntax for type uuid:
 * "<what a caller sent>"`). Rewritten while the span is ending (still mutable) to a fixed text;
 * the exception event pg's instrumentation records is already stripped of it.
 */
export class PgStatusRedactor implements SpanProcessor {
  onStart(_span: Span, _context: Context): void {}

  onEnding(span: Span): void {
    if (span.instrumentationScope.name !== PG_SCOPE || span.status.code !== SpanStatusCode.ERROR || !span.status.message) return;
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'the statement failed' });
  }

  onEnd(_span: ReadableSpan): void {}

  async forceFlush(): Promise<void> {}

  async shutdown(): Promise<void> {}
}
