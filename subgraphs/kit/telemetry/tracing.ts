import { randomBytes } from 'node:crypto';
import { register } from 'node:module';
import { context, trace, TraceFlags } from '@opentelemetry/api';

/*
 * OpenTelemetry tracing for a process (the gateway, a subgraph, or `npm start`'s all-in-one).
 *
 * On when an OTLP endpoint is configured (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), unless OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none.
 * Off, nothing of the SDK is loaded: @opentelemetry/api's no-op tracer is all that runs (Apollo
 * Gateway calls it for its spans either way), so tracing off costs nothing measurable.
 *
 * On, spans go over OTLP/HTTP (JSON) in batches, and the standard variables apply, read by the
 * SDK itself: OTEL_SERVICE_NAME (default `bizosaas-<process>`), OTEL_RESOURCE_ATTRIBUTES,
 * OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (default parentbased_always_on; e.g.
 * parentbased_traceidratio with 0.1 for 10%), OTEL_EXPORTER_OTLP_HEADERS / _TIMEOUT,
 * OTEL_BSP_SCHEDULE_DELAY / _MAX_QUEUE_SIZE. Context propagates as W3C `traceparent`.
 *
 * Instrumented: HTTP requests served (kit/telemetry/requests.ts: one span per request), pg and
 * ioredis (their OpenTelemetry instrumentations, only under a request's span: pg-boss's polling
 * and other background work make no traces), and Apollo Gateway's own spans (gateway.request,
 * .plan, .fetch, ...). Not http/undici auto-instrumentation, nor per-resolver spans: they are
 * where public reports find tracing's 30-80% cost.
 *
 * The instrumentations patch pg and ioredis when they are loaded, so `startTracing` runs before
 * anything imports them: each process entry calls it first and imports the rest dynamically.
 * ioredis is imported as an ES module, which only import-in-the-middle's loader hook can
 * intercept (registered here, for those two packages only).
 */

export type TracingEnv = Record<string, string | undefined>;

const UUID_LITERAL = /'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'/i;
const UUID_LITERALS = new RegExp(UUID_LITERAL.source, 'gi');

/** Whether the environment asks for tracing (see above). */
export function tracingConfigured(env: TracingEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.toLowerCase() === 'true') return false;
  if (env.OTEL_TRACES_EXPORTER?.toLowerCase() === 'none') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

let provider: { forceFlush(): Promise<void>; shutdown(): Promise<void> } | null = null;

/** Whether this process traces (startTracing found it configured). */
export const tracingEnabled = () => provider !== null;

/**
 * Starts tracing for the process named `process` (gateway, a subgraph's name, supergraph) when
 * the environment asks for it; once per process. Call it before importing anything that loads
 * pg or ioredis.
 */
export async function startTracing(processName: string, env: TracingEnv = process.env): Promise<boolean> {
  if (provider || !tracingConfigured(env)) return provider !== null;
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: ['ioredis', 'pg', 'pg-pool'] } });
  const [{ NodeTracerProvider }, { BatchSpanProcessor }, { OTLPTraceExporter }, resources, { registerInstrumentations }, { PgInstrumentation }, { IORedisInstrumentation }, { W3CTraceContextPropagator }] =
    await Promise.all([
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/instrumentation'),
      import('@opentelemetry/instrumentation-pg'),
      import('@opentelemetry/instrumentation-ioredis'),
      import('@opentelemetry/core'),
    ]);
  const { PgStatusRedactor } = await import('./redact.ts');
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the env detector) win over the default name.
  const resource = resources
    .resourceFromAttributes({ 'service.name': `bizosaas-${processName}` })
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  const tracerProvider = new NodeTracerProvider({
    resource,
    // First the redaction (while spans are ending), then the batched export.
    spanProcessors: [new PgStatusRedactor(), new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  // The global tracer provider, AsyncLocalStorage context and W3C trace-context propagation
  // (traceparent and tracestate only: not W3C baggage, which would carry whatever a client put
  // in it to every subgraph).
  tracerProvider.register({ propagator: new W3CTraceContextPropagator() });
  registerInstrumentations({
    tracerProvider,
    instrumentations: [
      // Statements' text is recorded, never their values; pool checkouts are not spans.
      new PgInstrumentation({
        requireParentSpan: true,
        ignoreConnectSpans: true,
        // The one kind of value the kit writes into statement text (kit/db: the pipelined BEGIN
        // that sets the transaction's tenant and member) is a UUID literal: recorded as '?'.
        requestHook: (span, { query }) => {
          if (UUID_LITERAL.test(query.text)) span.setAttribute('db.query.text', query.text.replace(UUID_LITERALS, "'?'"));
        },
      }),
      // The command's name only: keys and arguments can carry ids and cached values.
      new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: (command) => command }),
    ],
  });
  provider = tracerProvider;
  return true;
}

/** Exports the spans still buffered and stops tracing (a process's last step before it exits). */
export async function stopTracing(): Promise<void> {
  const stopping = provider;
  provider = null;
  await stopping?.shutdown().catch(() => undefined);
}

/**
 * Runs `work` in a trace that is not sampled: a process's own warm-up before it serves is not
 * traffic to record. Not merely suppressed: the unsampled parent's traceparent (flags 00) reaches
 * the subgraphs the warm-up asks, so their spans are not recorded either (parent-based sampling).
 */
export function untraced<T>(work: () => Promise<T>): Promise<T> {
  if (!provider) return work();
  const unsampled = trace.setSpanContext(context.active(), {
    traceId: randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    traceFlags: TraceFlags.NONE,
  });
  return context.with(unsampled, work);
}
