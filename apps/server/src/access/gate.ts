import type { DescMethod, Message } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import type { AccessFacade, Scope } from '@tally/access';
import { TallyError, type AuthMode, type Logger } from '@tally/platform';
import type { ServiceBinding } from '../transport/index.js';
import { peerAddressOf } from '../transport/peer.js';
import { requestFactsOf, type RequestFacts } from '../transport/request-ids.js';
import { anonymousCaller, setCaller, type Caller } from './caller.js';
import type { Budget, CallerLimits } from './caller-limits.js';
import { checkScopesDeclared, requiredScope } from './scopes.js';

/**
 * The gate every RPC passes before its handler runs, on every transport (it wraps the handlers
 * themselves, so native gRPC, Connect and gRPC-Web cannot differ):
 *
 * 1. who is calling: `authorization: Bearer <key>` (TALLY_AUTH=required), else UNAUTHENTICATED;
 *    with TALLY_AUTH=off, anyone, counted by the address they call from;
 * 2. may they: the key's scopes hold the one the RPC declares in the contract, else
 *    PERMISSION_DENIED;
 * 3. is there room: this process's unary calls in flight under MAX_CALLS_IN_FLIGHT, and the
 *    caller's budgets (CallerLimits), else RESOURCE_EXHAUSTED with a retry delay.
 *
 * The handler then finds the caller (its tenant scope) with `callerOf(context)`. Health checks
 * and reflection are not Tally RPCs: they never reach the gate.
 */

/**
 * Unary calls one process works on at once. Past it, calls are refused at once rather than
 * queued: waiting calls would each hold memory and, soon, a pool connection, and every caller's
 * latency would collapse together. Streams (watches) are bounded by their own budgets.
 */
export const MAX_CALLS_IN_FLIGHT = 1_000;
/** What a refused caller is told to wait, when the server (not the caller) is what is full. */
const SERVER_BUSY_RETRY_MS = 200;
/** The longest `authorization` value read: a key is 49 characters. */
const MAX_AUTHORIZATION_CHARS = 256;

export interface GateDeps {
  readonly auth: AuthMode;
  readonly access: Pick<AccessFacade, 'authenticate'>;
  /** Undefined when TALLY_RATE_LIMITS=off. */
  readonly limits: CallerLimits | undefined;
  readonly logger: Logger;
}

/** Wraps every handler of every binding in the gate; refuses to start when an RPC declares no scope. */
export function gateBindings(bindings: readonly ServiceBinding[], deps: GateDeps): ServiceBinding[] {
  checkScopesDeclared(bindings.map((b) => b.service));
  let inFlight = 0;
  const enterUnary = (): (() => void) => {
    if (inFlight >= MAX_CALLS_IN_FLIGHT) {
      throw new TallyError('RESOURCE_EXHAUSTED', `the server is working on ${inFlight} calls, its most; retry in ${SERVER_BUSY_RETRY_MS} ms`, {
        reason: 'SERVER_BUSY',
        retryDelayMs: SERVER_BUSY_RETRY_MS,
        quotaViolations: [{ subject: 'server', description: `calls in flight: at most ${MAX_CALLS_IN_FLIGHT} per process` }],
      });
    }
    inFlight++;
    return () => void inFlight--;
  };

  return bindings.map(({ service, impl }) => {
    const wrapped: Record<string, unknown> = {};
    for (const [name, handler] of Object.entries(impl as Record<string, unknown>)) {
      const method = service.methods.find((m) => m.localName === name);
      if (method === undefined || typeof handler !== 'function') {
        wrapped[name] = handler; // checkProcessingPatterns names it at start
        continue;
      }
      const needs = requiredScope(method)!;
      const budget: Budget = needs === 'read' ? 'read' : 'write';
      const admit = async (request: Message, context: HandlerContext): Promise<Caller> => {
        const caller = withOrigin(await identify(deps, method, needs, context), requestFactsOf(context));
        setCaller(context, caller);
        await deps.limits?.consume(budget, caller.id, costOf(request));
        return caller;
      };
      const bound = (handler as (...args: unknown[]) => unknown).bind(impl);
      wrapped[name] =
        method.methodKind === 'server_streaming'
          ? async function* gatedStream(request: Message, context: HandlerContext) {
              const caller = await admit(request, context);
              const release = (await deps.limits?.openWatch(caller.id)) ?? (() => undefined);
              try {
                yield* bound(request, context) as AsyncIterable<unknown>;
              } finally {
                release();
              }
            }
          : async (request: Message, context: HandlerContext) => {
              const leave = enterUnary();
              try {
                await admit(request, context);
                return await bound(request, context);
              } finally {
                leave();
              }
            };
    }
    return { service, impl: wrapped as ServiceBinding['impl'] };
  });
}

async function identify(deps: GateDeps, method: DescMethod, needs: Scope, context: HandlerContext): Promise<Caller> {
  if (deps.auth === 'off') return anonymousCaller(peerAddressOf(context));
  const key = bearerKey(context.requestHeader.get('authorization'));
  if (key === undefined) {
    throw new TallyError('UNAUTHENTICATED', 'this server needs an API key: send `authorization: Bearer <key>` (keys are made with `npm run keys -- create`)', {
      reason: 'API_KEY_MISSING',
    });
  }
  const grant = await deps.access.authenticate(key);
  if (grant === undefined) {
    throw new TallyError('UNAUTHENTICATED', 'the API key is not valid: unknown, revoked, or mistyped', { reason: 'API_KEY_INVALID' });
  }
  if (!grant.scopes.has(needs)) {
    throw new TallyError('PERMISSION_DENIED', `${method.parent.typeName}/${method.name} needs the ${needs} scope, which this API key does not have`, {
      reason: 'SCOPE_MISSING',
      metadata: { required_scope: needs, key_id: grant.keyId },
    });
  }
  return { scope: { tenant: grant.tenant }, id: `key:${grant.keyId}` };
}

/** The caller, its scope naming the request it serves (what an operation it submits records). */
function withOrigin(caller: Caller, facts: RequestFacts | undefined): Caller {
  if (facts === undefined) return caller;
  const origin = facts.traceparent === undefined ? { requestId: facts.requestId } : { requestId: facts.requestId, traceparent: facts.traceparent };
  return { ...caller, scope: { ...caller.scope, origin } };
}

/** The key of `Bearer <key>` (the scheme in any case, as HTTP has it); undefined for anything else. */
function bearerKey(header: string | null): string | undefined {
  if (header === null || header.length > MAX_AUTHORIZATION_CHARS) return undefined;
  const match = /^bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** What a call costs against its budget: a batch counts as its items, anything else as one. */
function costOf(request: Message): number {
  const items = (request as { transactions?: unknown }).transactions;
  return Array.isArray(items) ? Math.max(1, items.length) : 1;
}
