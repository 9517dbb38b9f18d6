import { getOption, type DescMethod, type DescService } from '@bufbuild/protobuf';
import { scope as scopeOption, Scope } from '@tally/contracts';
import type { Scope as KeyScope } from '@tally/access';

/**
 * Which scope an RPC needs, from its contract (`option (tally.v1.scope)`): declared once in
 * proto/, seen by every client team through reflection, and enforced here.
 */
const NAMES: Readonly<Record<Exclude<Scope, Scope.UNSPECIFIED>, KeyScope>> = {
  [Scope.READ]: 'read',
  [Scope.WRITE]: 'write',
  [Scope.ADMIN]: 'admin',
};

export function requiredScope(method: DescMethod): KeyScope | undefined {
  const declared = getOption(method, scopeOption);
  return declared === Scope.UNSPECIFIED ? undefined : NAMES[declared];
}

/** Refuses to start when an RPC declares no scope: an undeclared one would be open to any key, or to none. */
export function checkScopesDeclared(services: readonly DescService[]): void {
  const missing = services.flatMap((s) => s.methods.filter((m) => requiredScope(m) === undefined).map((m) => `${s.typeName}/${m.name}`));
  if (missing.length > 0) throw new Error(`refusing to start: these RPCs declare no (tally.v1.scope) option:\n- ${missing.join('\n- ')}`);
}
