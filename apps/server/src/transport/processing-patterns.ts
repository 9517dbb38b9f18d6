import {
  create,
  getOption,
  isMessage,
  type DescField,
  type DescMessage,
  type DescMethod,
  type DescMethodServerStreaming,
  type DescMethodUnary,
  type DescService,
  type Message,
  type MessageInitShape,
} from '@bufbuild/protobuf';
import { Code, ConnectError, type HandlerContext } from '@connectrpc/connect';
import { pattern, ProcessingPattern } from '@tally/contracts';
import type { Logger } from '@tally/platform';
import type { ServiceBinding } from './binding.js';
import { internalError, toConnectError } from './errors.js';
import { UNOBSERVED, type RpcObserver } from './observer.js';
import { requestLogger } from './request-ids.js';

/**
 * The sync/async decision (docs/adr/0001-sync-and-async-processing.md) enforced at the edge.
 * Every RPC declares its processing pattern in the contract (`option (tally.v1.pattern)`); the
 * server refuses to start when a declaration is missing or contradicts the RPC's shape, and
 * wraps every handler once so both transports apply the same rules at run time:
 *
 * - SYNC / ASYNC: answered within the server's budget (`requestTimeoutMs`, or the client's
 *   deadline when shorter), else DEADLINE_EXCEEDED; an ASYNC answer must carry the accepted
 *   operation(s): answering without them is a server bug, reported as INTERNAL.
 * - STREAM: no server deadline (a watch lasts as long as the client wants); it stops when the
 *   client leaves or the server shuts down.
 * - every error leaves through `toConnectError`, so both transports send the same status.
 */

/** A response field an ASYNC RPC must fill: `operation`, or `results` for batches. */
const ASYNC_RESULT_FIELDS = ['operation', 'results'] as const;

/** What a handler may answer: a message, or the plain-object init shape of one. */
type Response = MessageInitShape<DescMessage>;

/**
 * Handler shapes after wrapping: what the Connect router and the grpc-js adapter call. They
 * answer complete messages (built inside the wrapper, so a handler's malformed answer is an
 * INTERNAL like any other bug, on both transports) and throw only ConnectErrors.
 */
export type GuardedUnary = (request: Message, context: HandlerContext) => Promise<Message>;
export type GuardedStream = (request: Message, context: HandlerContext) => AsyncIterable<Message>;
export type GuardedMethod =
  | { readonly kind: 'unary'; readonly method: DescMethodUnary; readonly handler: GuardedUnary }
  | { readonly kind: 'server_streaming'; readonly method: DescMethodServerStreaming; readonly handler: GuardedStream };

export interface GuardedService {
  readonly service: DescService;
  readonly methods: readonly GuardedMethod[];
}

export interface GuardOptions {
  readonly logger: Logger;
  /** Upper bound on a SYNC or ASYNC call, whatever deadline the client asked for. */
  readonly requestTimeoutMs: number;
  /**
   * Aborted when the transport shuts down: open streams then end with UNAVAILABLE, which
   * clients treat as "watch again" (elsewhere), instead of holding the shutdown open.
   */
  readonly shutdownSignal?: AbortSignal;
  /** Told of every call's start and end (metrics, logs, request ids, traces). */
  readonly observer?: RpcObserver | undefined;
}

/** `tally.v1.LedgerService/CreateLedger`: how an RPC is named in messages and logs. */
export function rpcName(method: DescMethod): string {
  return `${method.parent.typeName}/${method.name}`;
}

/**
 * Throws one error listing every problem, so a bad contract or binding fails the start with
 * all of its causes at once rather than one per restart.
 */
export function checkProcessingPatterns(bindings: readonly ServiceBinding[]): void {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const { service, impl } of bindings) {
    if (seen.has(service.typeName)) problems.push(`${service.typeName} is bound twice`);
    seen.add(service.typeName);
    for (const method of service.methods) problems.push(...methodProblems(method));
    // A misspelt handler would otherwise be silently ignored and its RPC answer UNIMPLEMENTED.
    for (const name of Object.keys(impl)) {
      if (!(name in service.method)) problems.push(`handler "${name}" matches no RPC of ${service.typeName}`);
    }
  }
  if (problems.length > 0) {
    throw new Error(`refusing to start: processing patterns not honoured:\n- ${problems.join('\n- ')}`);
  }
}

function methodProblems(method: DescMethod): string[] {
  const rpc = rpcName(method);
  const declared = getOption(method, pattern);
  if (declared === ProcessingPattern.UNSPECIFIED) return [`${rpc} declares no (tally.v1.pattern) option`];
  switch (method.methodKind) {
    case 'server_streaming':
      return declared === ProcessingPattern.STREAM
        ? []
        : [`${rpc} is server-streaming but declares ${ProcessingPattern[declared]}; it must declare STREAM`];
    case 'unary':
      if (declared === ProcessingPattern.STREAM) return [`${rpc} is unary but declares STREAM`];
      if (declared === ProcessingPattern.ASYNC && asyncResultField(method) === undefined) {
        return [`${rpc} is ASYNC but ${method.output.typeName} has no "operation" or repeated "results" field`];
      }
      return [];
    default:
      return [`${rpc} is ${method.methodKind}: Tally serves only unary and server-streaming RPCs`];
  }
}

function asyncResultField(method: DescMethod): DescField | undefined {
  const [operation, results] = ASYNC_RESULT_FIELDS.map((name) => method.output.fields.find((f) => f.name === name));
  if (operation?.fieldKind === 'message' && operation.message.typeName === 'tally.v1.Operation') return operation;
  if (results?.fieldKind === 'list') return results;
  return undefined;
}

/** Checks the bindings, then wraps every RPC of every service (missing handlers answer UNIMPLEMENTED). */
export function guardServices(bindings: readonly ServiceBinding[], options: GuardOptions): GuardedService[] {
  checkProcessingPatterns(bindings);
  return bindings.map(({ service, impl }) => ({
    service,
    methods: service.methods.map((method): GuardedMethod => {
      const handler = (impl as Record<string, unknown>)[method.localName];
      const bound = typeof handler === 'function' ? (handler as AnyHandler).bind(impl) : unavailable(method);
      // checkProcessingPatterns admitted only these two kinds; the casts record what it proved.
      return method.methodKind === 'server_streaming'
        ? {
            kind: 'server_streaming',
            method: method as DescMethodServerStreaming,
            handler: guardStream(method, bound as StreamHandler, options),
          }
        : {
            kind: 'unary',
            method: method as DescMethodUnary,
            handler: guardUnary(method, bound as UnaryHandler, options),
          };
    }),
  }));
}

type UnaryHandler = (request: Message, context: HandlerContext) => Promise<Response> | Response;
type StreamHandler = (request: Message, context: HandlerContext) => AsyncIterable<Response>;
type AnyHandler = UnaryHandler | StreamHandler;

function unavailable(method: DescMethod): AnyHandler {
  return () => {
    throw new ConnectError(`${rpcName(method)} is not available yet`, Code.Unimplemented);
  };
}

function guardUnary(method: DescMethod, handler: UnaryHandler, options: GuardOptions): GuardedUnary {
  const rpc = rpcName(method);
  const resultField = getOption(method, pattern) === ProcessingPattern.ASYNC ? asyncResultField(method) : undefined;
  const observer = options.observer ?? UNOBSERVED;
  return (request, context) => {
    const call = observer.begin(method, context, 'unary');
    return call.run(async () => {
      const clientBudgetMs = context.timeoutMs() ?? Number.POSITIVE_INFINITY;
      const budgetMs = Math.max(0, Math.min(options.requestTimeoutMs, clientBudgetMs));
      const expiresAt = Date.now() + budgetMs;
      const scope = linkSignals(context.signal);
      const timer = setTimeout(() => {
        if (budgetMs === options.requestTimeoutMs) requestLogger(options.logger, context).warn({ rpc, budgetMs }, 'server deadline exceeded');
        scope.abort(new ConnectError(`${rpc} did not answer within ${budgetMs} ms`, Code.DeadlineExceeded));
      }, budgetMs);
      const { signal } = scope;
      try {
        // The handler sees the tighter deadline too, so its own downstream calls can give up.
        const scoped: HandlerContext = { ...context, signal, timeoutMs: () => expiresAt - Date.now() };
        const answer = await untilAborted(Promise.resolve().then(() => handler(request, scoped)), signal);
        const response = toMessage(method.output, answer);
        if (resultField !== undefined && !isFilled(response, resultField)) {
          throw internalError(new Error(`ASYNC RPC ${rpc} answered without "${resultField.name}"`), requestLogger(options.logger, context), rpc);
        }
        call.end(undefined);
        return response;
      } catch (error) {
        const failure = toConnectError(error, requestLogger(options.logger, context), rpc);
        call.end(failure);
        throw failure;
      } finally {
        clearTimeout(timer);
        scope.dispose();
      }
    });
  };
}

function guardStream(method: DescMethod, handler: StreamHandler, options: GuardOptions): GuardedStream {
  const rpc = rpcName(method);
  const observer = options.observer ?? UNOBSERVED;
  return async function* guarded(request, context) {
    const call = observer.begin(method, context, 'stream');
    const scope = linkSignals(context.signal, options.shutdownSignal);
    const { signal } = scope;
    let iterator: AsyncIterator<Response> | undefined;
    let failure: ConnectError | undefined;
    try {
      iterator = call.run(() => handler(request, { ...context, signal })[Symbol.asyncIterator]());
      for (;;) {
        // Racing each step against the signal ends the stream even while the handler waits
        // for its next event; the handler learns of it through the same signal.
        const step = await untilAborted(call.run(() => iterator!.next()), signal);
        if (step.done === true) return;
        yield toMessage(method.output, step.value);
      }
    } catch (error) {
      failure = toConnectError(error, requestLogger(options.logger, context), rpc);
      throw failure;
    } finally {
      // Runs the handler's own `finally` (unsubscribe, release) when the client leaves early.
      void Promise.resolve(iterator?.return?.()).catch(() => undefined);
      scope.dispose();
      // A stream the client left (or the server's shutdown ended) did not end by itself.
      call.end(failure ?? (signal.aborted ? ConnectError.from(signal.reason, Code.Canceled) : undefined));
    }
  };
}

interface SignalScope {
  readonly signal: AbortSignal;
  abort(reason: unknown): void;
  /** Detaches from the sources, so long-lived ones (the shutdown signal) do not pile up listeners. */
  dispose(): void;
}

/** A signal that aborts with the first aborted source, or when `abort` is called. */
function linkSignals(...sources: readonly (AbortSignal | undefined)[]): SignalScope {
  const controller = new AbortController();
  const attached = sources.filter((s): s is AbortSignal => s !== undefined);
  const listeners = attached.map((source) => {
    const listener = (): void => controller.abort(source.reason);
    if (source.aborted) listener();
    else source.addEventListener('abort', listener, { once: true });
    return () => source.removeEventListener('abort', listener);
  });
  return {
    signal: controller.signal,
    abort: (reason) => controller.abort(reason),
    dispose: () => listeners.forEach((detach) => detach()),
  };
}

/** Settles with `work`, or rejects as soon as `signal` aborts (the reason as a ConnectError). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(ConnectError.from(signal.reason, Code.Canceled));
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function toMessage(schema: DescMessage, value: Response): Message {
  return isMessage(value, schema) ? value : create(schema, value);
}

/** Proto3 presence: a message field is set, a repeated field is non-empty. */
function isFilled(response: Message, field: DescField): boolean {
  const value = (response as unknown as Record<string, unknown>)[field.localName];
  return field.fieldKind === 'list' ? Array.isArray(value) && value.length > 0 : value !== undefined;
}
