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
  toLedgerId: string | null;
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
    toLedgerId: op.toLedgerId,
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
    toLedgerId: json.toLedgerId ?? null,
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

/** One committed change of an operation: its new state and the balance changes that commit made. */
export interface OperationChange {
  readonly operation: Operation;
  readonly balanceChanges?: readonly BalanceChange[];
}

/** Every ledger an operation concerns: its own, a transfer's target, and any whose balance it changed. */
export function ledgersOf({ operation, balanceChanges = [] }: OperationChange): string[] {
  const ids = [operation.ledgerId, ...(operation.toLedgerId === null ? [] : [operation.toLedgerId]), ...balanceChanges.map((c) => c.ledgerId)];
  return [...new Set(ids)];
}

/**
 * Publishes the new state of each operation (on its own channel and on the channels of every
 * ledger it concerns) and the balance changes that commit made, in order, in one round trip.
 */
export async function publishOperations(redis: Redis, changes: readonly OperationChange[]): Promise<void> {
  if (changes.length === 0) return;
  const pipeline = redis.pipeline();
  for (const change of changes) {
    const { operation } = change;
    const event = JSON.stringify({ type: 'operation', operation: operationToJson(operation) } satisfies OperationEvent);
    pipeline.publish(operationChannel(operation.id), event);
    for (const ledgerId of ledgersOf(change)) pipeline.publish(ledgerChannel(ledgerId), event);
    for (const balanceChange of change.balanceChanges ?? []) {
      const balance: BalanceEvent = {
        type: 'balance',
        operationId: operation.id,
        ledgerId: balanceChange.ledgerId,
        currency: balanceChange.currency,
        amount: balanceChange.amount.toString(),
        balanceAfter: balanceChange.balanceAfter.toString(),
      };
      pipeline.publish(ledgerChannel(balanceChange.ledgerId), JSON.stringify(balance));
    }
  }
  await pipeline.exec();
}
