import { SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { PG_SCOPE, PgStatusRedactor } from '../subgraphs/kit/telemetry/redact.ts';

// The tracing pipeline's redaction (kit/telemetry/redact.ts), as tracing.ts assembles it: the
// redactor before the exporting processor. pg's instrumentation sets a failed statement's status
// message to the driver's error message, which can quote a caller's input.
describe('span redaction', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new PgStatusRedactor(), new SimpleSpanProcessor(exporter)] });
  const LEAKY = 'invalid input syntax for type uuid: "secret-input-of-a-caller"';

  it("rewrites a failed pg statement's status message; other spans and pg's successes keep theirs", () => {
    const failed = provider.getTracer(PG_SCOPE).startSpan('pg.query:SELECT test');
    failed.setStatus({ code: SpanStatusCode.ERROR, message: LEAKY });
    failed.end();
    const ok = provider.getTracer(PG_SCOPE).startSpan('pg.query:SELECT test');
    ok.end();
    const other = provider.getTracer('bizosaas.gateway').startSpan('POST /graphql');
    other.setStatus({ code: SpanStatusCode.ERROR, message: 'timeout' });
    other.end();

    const [pgFailed, pgOk, gateway] = exporter.getFinishedSpans();
    expect(pgFailed!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'the statement failed' });
    expect(JSON.stringify(exporter.getFinishedSpans().map((s) => ({ status: s.status, attributes: s.attributes, events: s.events })))).not.toContain('secret-input-of-a-caller');
    expect(pgOk!.status.code).toBe(SpanStatusCode.UNSET);
    expect(gateway!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'timeout' });
  });
});
