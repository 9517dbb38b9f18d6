/**
 * Whose ledgers a call may reach. With API keys (TALLY_AUTH=required) every call acts for the
 * tenant of its key, and sees only that tenant's ledgers and operations: another tenant's are
 * answered NOT_FOUND, as if they did not exist. With TALLY_AUTH=off there is no tenant: every
 * call reaches everything, and what it creates belongs to no tenant.
 */
export type TenantScope = { readonly tenant: string } | typeof EVERY_TENANT;

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
