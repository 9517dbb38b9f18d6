import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What the logs say about the request being served: its id (the caller's `x-request-id`, or
 * one made for it) and the calling app's `x-client-id`. The transport runs each RPC inside
 * `withRequest`; the logger adds the fields to every line written while it runs, whichever
 * module writes it.
 */
export interface RequestFacts {
  readonly requestId: string;
  readonly clientId?: string | undefined;
}

const current = new AsyncLocalStorage<RequestFacts>();

export function withRequest<T>(facts: RequestFacts, work: () => T): T {
  return current.run(facts, work);
}

/**
 * Runs work that serves no one request (a worker loop a request woke, a group commit of many
 * requests' submits) outside the request it was started from: its logs must not claim that
 * request, and its later work would otherwise carry it for ever.
 */
export function outsideRequest<T>(work: () => T): T {
  return current.exit(work);
}

/** The request this code is serving, if any. */
export function currentRequest(): RequestFacts | undefined {
  return current.getStore();
}
