import type { DescMethod } from '@bufbuild/protobuf';
import type { ConnectError, HandlerContext } from '@connectrpc/connect';

/**
 * What watches every RPC on both transports (metrics, logs, request ids, traces: the server's
 * observability/rpc-observer.ts). The guard (processing-patterns.ts) tells it when a call
 * begins, runs the call's work through it, and tells it how the call ended.
 */
export interface RpcObserver {
  begin(method: DescMethod, context: HandlerContext, kind: CallKind): ObservedCall;
}

export type CallKind = 'unary' | 'stream';

export interface ObservedCall {
  /** Runs part of the call's work in the call's context (its request id in logs, its span). */
  run<T>(work: () => T): T;
  /** The call is over: answered (no error) or failed with `error`, as the client is told. */
  end(error: ConnectError | undefined): void;
}

const UNOBSERVED_CALL: ObservedCall = { run: (work) => work(), end: () => undefined };

/** Watches nothing: for transports started without an observer (unit tests). */
export const UNOBSERVED: RpcObserver = { begin: () => UNOBSERVED_CALL };
