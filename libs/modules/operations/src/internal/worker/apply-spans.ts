import { recordSpanUnder, tracingEnabled } from '@tally/platform';
import type { OperationChange } from '../feed/feed-events.js';
import type { OperationRow } from '../schema.js';

/**
 * With traces on, each applied operation that was submitted under a span gets a span of its
 * own in the same trace: a child of the submit's span (its traceparent is stored with the
 * operation), from the start of the apply transaction to its commit.
 */
export function recordApplySpans(batch: readonly OperationRow[], changes: readonly OperationChange[], startedMs: number): void {
  if (!tracingEnabled()) return;
  const traced = new Map(batch.filter((row) => row.traceparent !== null).map((row) => [row.id, row]));
  if (traced.size === 0) return;
  for (const { operation } of changes) {
    const row = traced.get(operation.id);
    if (!row) continue;
    recordSpanUnder(row.traceparent!, `apply ${operation.kind.toLowerCase()}`, {
      startMs: startedMs,
      attributes: {
        'tally.operation.id': operation.id,
        'tally.operation.kind': operation.kind,
        'tally.operation.status': operation.status,
        'tally.operation.stage': row.stage,
        'tally.partition': row.partition,
        'tally.batch.size': batch.length,
        ...(row.requestId !== null && { 'tally.request.id': row.requestId }),
      },
      failure: operation.status === 'FAILED' ? (operation.error?.code ?? 'FAILED') : undefined,
    });
  }
}
