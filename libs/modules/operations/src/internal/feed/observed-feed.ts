import { operationMetrics, seriesCache, type Logger } from '@tally/platform';
import type { Operation } from '../types.js';
import type { StatusFeed } from './status-feed.js';

/**
 * Every status change a process commits goes to the status feed, once (accepting, cancelling,
 * requeueing, the worker's applies and exhausted retries): the one place that sees them all is
 * where they are counted and logged. New operations count as accepted; terminal ones as
 * finished, with their accepted → terminal latency (PostgreSQL's clock at both ends), and
 * each terminal transition is logged with the operation's id and the submit's request id:
 * COMPLETED at debug, FAILED and CANCELLED at info.
 */
export function observedFeed(feed: StatusFeed, logger: Logger): StatusFeed {
  const log = logger.child({ component: 'operations' });
  return {
    publish(changes) {
      for (const { operation } of changes) observe(operation, log);
      feed.publish(changes);
    },
  };
}

const acceptedSeries = seriesCache((kind) => operationMetrics.accepted.labels(kind));
const finishedSeries = seriesCache((kind, status, reason) => operationMetrics.finished.labels(kind, status, reason));
const latencySeries = seriesCache((kind) => operationMetrics.latency.labels(kind));

/** A failure reason as a label: the error codes Tally writes (`INSUFFICIENT_FUNDS`); anything else is `OTHER`. */
const REASON_LABEL = /^[A-Z][A-Z0-9_]{0,63}$/;

function observe(operation: Operation, log: Logger): void {
  const { status } = operation;
  const kind = operation.kind.toLowerCase();
  if (status === 'PENDING') {
    if (operation.version === 1n) acceptedSeries(kind).inc();
    return;
  }
  if (status !== 'COMPLETED' && status !== 'FAILED' && status !== 'CANCELLED') return;
  const code = operation.error?.code ?? '';
  const reason = code === '' || REASON_LABEL.test(code) ? code : 'OTHER';
  finishedSeries(kind, status.toLowerCase(), reason).inc();
  latencySeries(kind).observe(Math.max(0, operation.updateTime.getTime() - operation.createTime.getTime()) / 1000);
  const level = status === 'COMPLETED' ? 'debug' : 'info';
  if (!log.isLevelEnabled(level)) return;
  log[level](
    {
      operationId: operation.id,
      kind: operation.kind,
      ledgerId: operation.ledgerId,
      status,
      ...(operation.error && { reason: operation.error.code, err: operation.error.message }),
      attempts: operation.attempts,
      // The submit's request: its id, and the trace of its span.
      submitRequestId: operation.origin?.requestId ?? undefined,
      traceparent: operation.origin?.traceparent ?? undefined,
    },
    `operation ${status.toLowerCase()}`,
  );
}
