import { propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import type { Logger } from './logger.js';

/**
 * OpenTelemetry traces, off unless `OTEL_TRACES_EXPORTER` names an exporter (`console`,
 * `otlp`, ...; the standard `OTEL_*` variables configure the rest). Off, every call here is a
 * no-op costing a branch: nothing is recorded, propagated or stored.
 *
 * A submit RPC's span is the parent of the worker's span that later applies the operation:
 * the span's W3C `traceparent` is stored with the operation when it is accepted
 * (`traceparentOf`), and the worker starts its span under it (`contextOfTraceparent`).
 */

export const tracer: Tracer = trace.getTracer('tally');

let enabled = false;

/** Whether this process records traces. */
export function tracingEnabled(): boolean {
  return enabled;
}

/**
 * Starts the OpenTelemetry SDK when OTEL_TRACES_EXPORTER asks for traces; returns what flushes
 * and stops it. Metrics stay with Prometheus and logs with stdout: the SDK's own metric and log
 * exporters are off unless OTEL_METRICS_EXPORTER / OTEL_LOGS_EXPORTER say otherwise.
 */
export async function startTracing(logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<() => Promise<void>> {
  const exporter = env['OTEL_TRACES_EXPORTER']?.trim();
  if (!exporter || exporter === 'none') return async () => undefined;
  env['OTEL_METRICS_EXPORTER'] ??= 'none';
  env['OTEL_LOGS_EXPORTER'] ??= 'none';
  env['OTEL_SERVICE_NAME'] ??= 'tally';
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  // No auto-instrumentation: Tally's own spans (RPCs, applies) are the ones worth reading.
  const sdk = new NodeSDK({ instrumentations: [] });
  sdk.start();
  enabled = true;
  logger.info({ exporter, service: env['OTEL_SERVICE_NAME'] }, 'tracing on (OpenTelemetry)');
  return async () => {
    enabled = false;
    await sdk.shutdown().catch((error: unknown) => logger.warn({ err: String(error) }, 'could not flush the last traces'));
  };
}

/** The W3C traceparent naming a span, as a child of it would carry it. */
export function traceparentOf(span: Span): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(ROOT_CONTEXT, span), carrier);
  return carrier['traceparent'];
}

/** A context whose parent is the span a stored traceparent names (the root context for a malformed one). */
export function contextOfTraceparent(traceparent: string): Context {
  return propagation.extract(ROOT_CONTEXT, { traceparent });
}

/** The trace context a caller sent (`traceparent`, `tracestate` headers). */
export function contextOfHeaders(headers: Headers): Context {
  return propagation.extract(ROOT_CONTEXT, headers, {
    keys: (carrier) => [...carrier.keys()],
    get: (carrier, key) => carrier.get(key) ?? undefined,
  });
}

/** A span already over (from `startMs` to now), recorded as a child of the span a stored traceparent names. */
export function recordSpanUnder(
  traceparent: string,
  name: string,
  span: { readonly startMs: number; readonly attributes: Attributes; readonly failure?: string | undefined },
): void {
  if (!enabled) return;
  const recorded = tracer.startSpan(name, { kind: SpanKind.CONSUMER, startTime: span.startMs, attributes: span.attributes }, contextOfTraceparent(traceparent));
  if (span.failure !== undefined) recorded.setStatus({ code: SpanStatusCode.ERROR, message: span.failure });
  recorded.end();
}
