/**
 * Whose ledgers a call may reach. With API keys (TALLY_AUTH=required) every call acts for the
 * tenant of its key, and sees only that tenant's ledgers and operations: another tenant's are
 * answered NOT_FOUND, as if they did not exist. With TALLY_AUTH=off there is no tenant: every
 * call reaches everything, and what it creates belongs to no tenant.
 */
export type TenantScope = ({ readonly tenant: string } | { readonly tenant: null }) & {
  /** The RPC the call serves, when it comes from one: what an operation it submits records. */
  readonly origin?: RequestOrigin | undefined;
};

/**
 * The request a call serves: its id (the caller's `x-request-id`, or one made for it) and, with
 * traces on, the W3C traceparent of its span. An accepted operation keeps both, so that the
 * line logging its end names the request, and the worker's apply span joins its trace.
 */
export interface RequestOrigin {
  readonly requestId: string;
  readonly traceparent?: string | undefined;
}

/** The scope of a call when auth is off. */
export const EVERY_TENANT = Object.freeze({ tenant: null });

/** Whether something owned by `owner` (null: no tenant) is visible in `scope`. */
export function isVisibleTo(scope: TenantScope, owner: string | null): boolean {
  return scope.tenant === null || scope.tenant === owner;
}

/** The tenant that owns what a call in `scope` creates: its own, or none when auth is off. */
export function ownerFor(scope: TenantScope): string | null {
  return scope.tenant;
}

/** How a scope appears in a page token's query, so that a token of one tenant's list is refused in another's. */
export function tenantQueryPart(scope: TenantScope): string {
  return scope.tenant === null ? '*' : `t:${scope.tenant}`;
}
