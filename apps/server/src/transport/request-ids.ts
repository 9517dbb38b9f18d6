import { randomUUID } from 'node:crypto';
import { createContextKey, type HandlerContext } from '@connectrpc/connect';
import type { Logger, RequestOrigin } from '@tally/platform';

/** The header a caller may name its request with, and in which every answer names it back. */
export const REQUEST_ID_HEADER = 'X-Request-Id';
/** Longest request id taken from a caller; a longer (or oddly spelt) one is replaced. */
export const MAX_REQUEST_ID_CHARS = 128;
/** Longest `x-client-id` kept for the logs; longer ones are cut. */
export const MAX_CLIENT_ID_CHARS = 64;

/** Letters, digits and `-_.:/+=`: what ids, UUIDs and base64 are made of, and nothing a log could choke on. */
const REQUEST_ID = new RegExp(`^[A-Za-z0-9._:/+=-]{1,${MAX_REQUEST_ID_CHARS}}$`);

/** The caller's `x-request-id` when it is a sensible id, else a new UUID. */
export function requestIdOf(headers: Headers): string {
  const sent = headers.get(REQUEST_ID_HEADER);
  return sent !== null && REQUEST_ID.test(sent) ? sent : randomUUID();
}

/** The calling app's name (`x-client-id`), printable ASCII only and cut to length; undefined when absent. */
export function clientIdOf(headers: Headers): string | undefined {
  const sent = headers.get('x-client-id');
  if (sent === null) return undefined;
  const clean = sent.replace(/[^\x20-\x7e]/g, '').slice(0, MAX_CLIENT_ID_CHARS);
  return clean.length > 0 ? clean : undefined;
}

/** What is known of the request a call serves: its origin (id, span) and the calling app's name. */
export interface RequestFacts extends RequestOrigin {
  readonly clientId?: string | undefined;
}

const REQUEST_FACTS = createContextKey<RequestFacts | undefined>(undefined, { description: 'the request id and trace of the call' });

/** Set when the call begins (observability/rpc-observer.ts), read by whatever logs about it. */
export function setRequestFacts(context: Pick<HandlerContext, 'values'>, facts: RequestFacts): void {
  context.values.set(REQUEST_FACTS, facts);
}

export function requestFactsOf(context: Pick<HandlerContext, 'values'>): RequestFacts | undefined {
  return context.values.get(REQUEST_FACTS);
}

/** A logger whose lines name the call's request (made only where a line is about to be written). */
export function requestLogger(logger: Logger, context: Pick<HandlerContext, 'values'>): Logger {
  const facts = requestFactsOf(context);
  return facts === undefined ? logger : logger.child(facts.clientId === undefined ? { requestId: facts.requestId } : { requestId: facts.requestId, clientId: facts.clientId });
}
