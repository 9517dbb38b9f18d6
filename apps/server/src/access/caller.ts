import { createContextKey, type HandlerContext } from '@connectrpc/connect';
import { EVERY_TENANT, type TenantScope } from '@tally/platform';

/**
 * Who is calling, as the gate established it before the handler ran: the tenant whose ledgers
 * the call may reach, and the name its limits are counted under.
 */
export interface Caller {
  readonly scope: TenantScope;
  /** `key:<id>` with an API key; `address:<ip>` without one (TALLY_AUTH=off). */
  readonly id: string;
}

/** Only a handler wrapped by the gate runs; a caller missing here is a wiring bug, and the default says so loudly. */
const CALLER = createContextKey<Caller | undefined>(undefined, { description: 'the caller the gate admitted' });

export function setCaller(context: Pick<HandlerContext, 'values'>, caller: Caller): void {
  context.values.set(CALLER, caller);
}

export function callerOf(context: Pick<HandlerContext, 'values'>): Caller {
  const caller = context.values.get(CALLER);
  if (caller === undefined) throw new Error('a handler ran without passing the gate (see access/gate.ts)');
  return caller;
}

/** The tenant scope of the call: what every facade call that names a ledger takes. */
export function scopeOf(context: Pick<HandlerContext, 'values'>): TenantScope {
  return callerOf(context).scope;
}

/** What a call is with auth off: every tenant's, counted by the address it came from. */
export function anonymousCaller(address: string): Caller {
  return { scope: EVERY_TENANT, id: `address:${address}` };
}
