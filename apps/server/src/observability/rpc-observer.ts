import type { DescMethod } from '@bufbuild/protobuf';
import { context as traceContext, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { Code, type ConnectError, type HandlerContext } from '@connectrpc/connect';
import { contextOfHeaders, rpcMetrics, seriesCache, traceparentOf, tracer, tracingEnabled, type Logger } from '@tally/platform';
import type { CallKind, ObservedCall, RpcObserver } from '../transport/observer.js';
import { rpcName } from '../transport/processing-patterns.js';
import { clientIdOf, REQUEST_ID_HEADER, requestIdOf, setRequestFacts, type RequestFacts } from '../transport/request-ids.js';

/**
 * What every RPC leaves behind, on both transports and every protocol:
 * - a request id: the caller's `x-request-id` or a new one, answered in the response headers
 *   (with the status, when an error is the whole answer), named by every line the RPC layer
 *   logs about the call, and kept with an operation it submits (the line logging that
 *   operation's end names it);
 * - metrics: tally_rpc_requests_total{method,code,transport}, tally_rpc_duration_seconds
 *   (unary calls), tally_rpcs_in_flight{kind};
 * - a log line when it ends: debug when it succeeded, info for a client's error, warn for the
 *   server's (internal, unknown, unavailable, data loss, deadline exceeded);
 * - with traces on, a server span, the child of the caller's `traceparent` when it sent one,
 *   in which the handler runs (and whose traceparent an operation it submits keeps).
 *
 * The request's facts travel in the call's context values, not in an AsyncLocalStorage: on
 * Node 20 one would slow every promise of the process (the benchmark showed it).
 */

/** Codes that say the server, not the request, is at fault: logged as warnings. */
const SERVER_FAULTS: ReadonlySet<Code> = new Set([Code.Internal, Code.Unknown, Code.Unavailable, Code.DataLoss, Code.DeadlineExceeded]);

/** `invalid_argument`: the gRPC code names as Prometheus labels and log fields. */
const CODE_LABELS: ReadonlyMap<Code, string> = new Map(
  Object.entries(Code)
    .filter((entry): entry is [string, Code] => typeof entry[1] === 'number')
    .map(([name, code]) => [code, name.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase()]),
);

/** A method's names: `LedgerService/SubmitTransaction` in metrics; logs use the full name, as every other RPC log line does. */
interface MethodNames {
  readonly label: string;
  readonly full: string;
}

export function createRpcObserver(logger: Logger): RpcObserver {
  const log = logger.child({ component: 'rpc' });
  const names = new Map<DescMethod, MethodNames>();
  const requests = seriesCache((method, code, transport) => rpcMetrics.requests.labels(method, code, transport));
  const durations = seriesCache((method, transport) => rpcMetrics.duration.labels(method, transport));
  const inFlight = { unary: rpcMetrics.inFlight.labels('unary'), stream: rpcMetrics.inFlight.labels('stream') };

  return {
    begin(method: DescMethod, context: HandlerContext, kind: CallKind): ObservedCall {
      const startedMs = performance.now();
      let name = names.get(method);
      if (name === undefined) names.set(method, (name = { label: `${method.parent.name}/${method.name}`, full: rpcName(method) }));
      const transport = context.protocolName;
      const requestId = requestIdOf(context.requestHeader);
      const clientId = clientIdOf(context.requestHeader);
      context.responseHeader.set(REQUEST_ID_HEADER, requestId);
      inFlight[kind].inc();
      const span = tracingEnabled() ? startSpan(method, context, requestId, clientId) : undefined;
      const facts: RequestFacts = { requestId, clientId, traceparent: span && traceparentOf(span) };
      setRequestFacts(context, facts);
      const spanContext = span && trace.setSpan(traceContext.active(), span);
      return {
        run: spanContext ? (work) => traceContext.with(spanContext, work) : runDirectly,
        end(error: ConnectError | undefined) {
          const elapsedMs = performance.now() - startedMs;
          const code = error === undefined ? 'ok' : (CODE_LABELS.get(error.code) ?? 'unknown');
          inFlight[kind].dec();
          requests(name.label, code, transport).inc();
          if (kind === 'unary') durations(name.label, transport).observe(elapsedMs / 1000);
          if (span !== undefined) endSpan(span, error);
          const level = error === undefined ? 'debug' : SERVER_FAULTS.has(error.code) ? 'warn' : 'info';
          if (!log.isLevelEnabled(level)) return;
          const line = {
            requestId,
            ...(clientId !== undefined && { clientId }),
            rpc: name.full,
            transport,
            code,
            ms: Math.round(elapsedMs * 10) / 10,
            ...(error !== undefined && { err: error.rawMessage }),
          };
          log[level](line, error === undefined ? 'rpc answered' : 'rpc failed');
        },
      };
    },
  };
}

/** With traces off, a call's work runs as it is. */
function runDirectly<T>(work: () => T): T {
  return work();
}

function startSpan(method: DescMethod, context: HandlerContext, requestId: string, clientId: string | undefined): Span {
  return tracer.startSpan(
    rpcName(method),
    {
      kind: SpanKind.SERVER,
      attributes: {
        'rpc.system': context.protocolName === 'connect' ? 'connect_rpc' : 'grpc',
        'rpc.service': method.parent.typeName,
        'rpc.method': method.name,
        'tally.transport': context.protocolName,
        'tally.request.id': requestId,
        ...(clientId !== undefined && { 'tally.client.id': clientId }),
      },
    },
    contextOfHeaders(context.requestHeader),
  );
}

function endSpan(span: Span, error: ConnectError | undefined): void {
  span.setAttribute('rpc.grpc.status_code', error?.code ?? 0);
  if (error !== undefined && SERVER_FAULTS.has(error.code)) span.setStatus({ code: SpanStatusCode.ERROR, message: error.rawMessage });
  span.end();
}
