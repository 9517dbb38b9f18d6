import type { DescService } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';

/**
 * One generated service and the Connect handlers that implement it. The handlers are written
 * once, against the descriptor; every transport serves this same object.
 *
 * `S` keeps the handler types tied to their service where the binding is made (see
 * `bindService`); a list of bindings uses the erased default, since a heterogeneous array
 * cannot keep each element's service type.
 */
export interface ServiceBinding<S extends DescService = DescService> {
  readonly service: S;
  readonly impl: Partial<ServiceImpl<S>>;
}

/**
 * Binds handlers to a service, checked against that service's methods, and returns the binding
 * in the erased form that `startGrpcServer` / `startHttpServer` take.
 *
 *   bindService(LedgerService, { createLedger: async (req) => ({ ledger }) })
 */
export function bindService<S extends DescService>(service: S, impl: Partial<ServiceImpl<S>>): ServiceBinding {
  // The cast only forgets which service the handlers belong to; `service` travels with them.
  return { service, impl: impl as Partial<ServiceImpl<DescService>> };
}

/** What `startGrpcServer` and `startHttpServer` return. */
export interface ListeningServer {
  readonly port: number;
  /**
   * Stops accepting, lets calls in flight finish for up to `graceMs`, then cuts what is left.
   * Open streams end at once with UNAVAILABLE (watchers re-watch). Idempotent.
   */
  close(graceMs?: number): Promise<void>;
}

export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;
