/**
 * The live list of a ledger's operations, newest first, as pure functions: versions only move
 * forward, so a version older than the one shown (a late duplicate from a re-watch, a list
 * read racing the stream) never overwrites a newer one.
 */

/** How many operations the live list keeps; older ones drop off the end. */
export const MAX_LIVE_OPERATIONS = 50;

/** What the list needs of an operation. */
export interface Versioned {
  readonly id: string;
  readonly version: bigint;
}

/**
 * `list` with `operation` in it: a newer version replaces the shown one in place (the row
 * updates where it is); an operation not shown yet goes on top. Returns `list` itself when
 * nothing changed, so callers can skip a redraw.
 */
export function mergeOperation<T extends Versioned>(list: readonly T[], operation: T, limit = MAX_LIVE_OPERATIONS): readonly T[] {
  const at = list.findIndex((shown) => shown.id === operation.id);
  if (at >= 0) {
    if (list[at]!.version >= operation.version) return list;
    return list.map((shown, i) => (i === at ? operation : shown));
  }
  return [operation, ...list].slice(0, limit);
}

/**
 * A page read with ListOperations (newest first) merged into what the stream already showed:
 * operations only the stream saw stay on top, those in both keep the newer version.
 */
export function mergePage<T extends Versioned>(list: readonly T[], page: readonly T[], limit = MAX_LIVE_OPERATIONS): readonly T[] {
  const fromPage = new Map(page.map((op) => [op.id, op]));
  const onlyStreamed = list.filter((shown) => !fromPage.has(shown.id));
  const shownById = new Map(list.map((op) => [op.id, op]));
  const merged = page.map((op) => {
    const shown = shownById.get(op.id);
    return shown && shown.version > op.version ? shown : op;
  });
  return [...onlyStreamed, ...merged].slice(0, limit);
}
