import type { Redis } from 'ioredis';
import { resultFromJson, resultToJson, stepsFromJson, stepsToJson } from '../json-forms.js';
import type { StoredResult, StoredStep } from '../schema.js';
import type { OperationKind, OperationStatus } from '../status.js';
import type { BalanceChange, Operation } from '../types.js';

/**
 * The status feed: every change of an operation, and every balance change it makes, is
 * published on Redis pub/sub after it commits, for the API processes to push to watchers.
 *
 *   tally:feed:op:<operation id>   OperationEvent for each new version of that operation
 *   tally:feed:ledger:<ledger id>  OperationEvent and BalanceEvent for every change on that ledger
 *
 * Pub/sub is fire-and-forget: PostgreSQL stays the truth, and a watcher reads it first (and
 * again after any gap), so a lost message delays a watcher but never misleads it.
 */

export const FEED_CHANNEL_PREFIX = 'tally:feed:';
export const operationChannel = (operationId: string): string => `${FEED_CHANNEL_PREFIX}op:${operationId}`;
export const ledgerChannel = (ledgerId: string): string => `${FEED_CHANNEL_PREFIX}ledger:${ledgerId}`;

/** Operation as JSON: bigints as decimal strings, times as ISO-8601. */
export interface OperationJson {
  id: string;
  kind: OperationKind;
  status: OperationStatus;
  ledgerId: string;
  transactionId: string;
  version: string;
  steps: StoredStep[];
  result: StoredResult | null;
  error: { code: string; message: string; details: Record<string, string> } | null;
  attempts: number;
  createTime: string;
  updateTime: string;
}

export interface OperationEvent {
  type: 'operation';
  operation: OperationJson;
}

export interface BalanceEvent {
  type: 'balance';
  /** The operation that made the change, at the version that completed it. */
  operationId: string;
  ledgerId: string;
  currency: string;
  amount: string;
  balanceAfter: string;
}

export type FeedEvent = OperationEvent | BalanceEvent;

export function operationToJson(op: Operation): OperationJson {
  return {
    id: op.id,
    kind: op.kind,
    status: op.status,
    ledgerId: op.ledgerId,
    transactionId: op.transactionId,
    version: op.version.toString(),
    steps: stepsToJson(op.steps),
    result: op.result && resultToJson(op.result),
    error: op.error && { code: op.error.code, message: op.error.message, details: { ...op.error.details } },
    attempts: op.attempts,
    createTime: op.createTime.toISOString(),
    updateTime: op.updateTime.toISOString(),
  };
}

export function operationFromJson(json: OperationJson): Operation {
  return {
    id: json.id,
    kind: json.kind,
    status: json.status,
    ledgerId: json.ledgerId,
    transactionId: json.transactionId,
    version: BigInt(json.version),
    steps: stepsFromJson(json.steps),
    result: json.result && resultFromJson(json.result),
    error: json.error,
    attempts: json.attempts,
    createTime: new Date(json.createTime),
    updateTime: new Date(json.updateTime),
  };
}

export function balanceFromEvent(event: BalanceEvent): BalanceChange & { operationId: string } {
  return {
    operationId: event.operationId,
    ledgerId: event.ledgerId,
    currency: event.currency,
    amount: BigInt(event.amount),
    balanceAfter: BigInt(event.balanceAfter),
  };
}

/** Parses a feed message; `undefined` for anything that is not one (logged by the caller). */
export function parseFeedEvent(message: string): FeedEvent | undefined {
  try {
    const event = JSON.parse(message) as Partial<FeedEvent>;
    if (event.type === 'operation' && typeof event.operation?.id === 'string') return event as OperationEvent;
    if (event.type === 'balance' && typeof event.ledgerId === 'string') return event as BalanceEvent;
  } catch {
    // Not JSON: fall through.
  }
  return undefined;
}

/**
 * Publishes the new state of each operation (on its own channel and on its ledgers'
 * channels) and the balance changes of completed ones, in order, in one round trip.
 * `ledgerIds` lists every ledger an operation touches (a transfer touches two).
 */
export async function publishOperations(
  redis: Redis,
  operations: ReadonlyArray<{ operation: Operation; ledgerIds: readonly string[] }>,
): Promise<void> {
  if (operations.length === 0) return;
  const pipeline = redis.pipeline();
  for (const { operation, ledgerIds } of operations) {
    const event = JSON.stringify({ type: 'operation', operation: operationToJson(operation) } satisfies OperationEvent);
    pipeline.publish(operationChannel(operation.id), event);
    for (const ledgerId of ledgerIds) pipeline.publish(ledgerChannel(ledgerId), event);
    for (const change of operation.result?.balanceChanges ?? []) {
      const balance: BalanceEvent = {
        type: 'balance',
        operationId: operation.id,
        ledgerId: change.ledgerId,
        currency: change.currency,
        amount: change.amount.toString(),
        balanceAfter: change.balanceAfter.toString(),
      };
      pipeline.publish(ledgerChannel(change.ledgerId), JSON.stringify(balance));
    }
  }
  await pipeline.exec();
}
