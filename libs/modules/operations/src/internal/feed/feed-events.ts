import { resultFromJson, resultToJson, stepsFromJson, stepsToJson } from '../json-forms.js';
import type { StoredResult, StoredStep } from '../schema.js';
import type { OperationKind, OperationStatus } from '../status.js';
import type { BalanceChange, LedgerEvent, Operation } from '../types.js';

/**
 * The status feed: every committed change of an operation, and every balance change it made,
 * for the API processes to push to watchers. One Redis pub/sub channel carries it all, one
 * message per commit (a whole batch of operations), so a busy worker publishes once per batch
 * and not once per operation and step. Each record of a message names the keys it concerns
 * (`op:<id>`, `ledger:<id>`), so a receiving process decodes only the records someone there
 * watches.
 *
 *   tally.feed.v1 <origin process id>
 *   op:<id>,ledger:<id>[,ledger:<id>]<TAB>{"type":"operation","operation":{...}}
 *   ledger:<id><TAB>{"type":"balance",...}
 *
 * Pub/sub is fire-and-forget: PostgreSQL stays the truth, and a watcher reads it first (and
 * again after any gap), so a lost message delays a watcher but never misleads it.
 */

export const FEED_CHANNEL = 'tally:feed';
const HEADER = 'tally.feed.v1';

export const operationKey = (operationId: string): string => `op:${operationId}`;
export const ledgerKey = (ledgerId: string): string => `ledger:${ledgerId}`;

/** Operation as JSON: bigints as decimal strings, times as ISO-8601. */
export interface OperationJson {
  id: string;
  kind: OperationKind;
  status: OperationStatus;
  ledgerId: string;
  toLedgerId: string | null;
  /** Absent in messages of a version that did not carry it. */
  tenant?: string | null;
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
    tenant: op.tenant,
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
    tenant: json.tenant ?? null,
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

/** What watchers get of one change, with the keys each event is delivered under, in order. */
export interface KeyedEvent {
  readonly keys: readonly string[];
  readonly event: LedgerEvent;
}

export function eventsOf(change: OperationChange): KeyedEvent[] {
  const { operation, balanceChanges = [] } = change;
  return [
    { keys: [operationKey(operation.id), ...ledgersOf(change).map(ledgerKey)], event: { kind: 'operation', operation } },
    ...balanceChanges.map((c): KeyedEvent => ({
      keys: [ledgerKey(c.ledgerId)],
      event: { kind: 'balance', change: { ...c, operationId: operation.id } },
    })),
  ];
}

/** One feed message for the changes of one commit (or several), from process `origin`. */
export function encodeFeedMessage(origin: string, changes: readonly OperationChange[]): string {
  if (origin === '' || /\s/.test(origin)) throw new Error(`a feed origin is one word, got ${JSON.stringify(origin)}`);
  const lines = [`${HEADER} ${origin}`];
  for (const change of changes) {
    for (const { keys, event } of eventsOf(change)) lines.push(`${keys.join(',')}\t${JSON.stringify(toFeedEvent(event))}`);
  }
  return lines.join('\n');
}

function toFeedEvent(event: LedgerEvent): FeedEvent {
  if (event.kind === 'operation') return { type: 'operation', operation: operationToJson(event.operation) };
  const c = event.change;
  return { type: 'balance', operationId: c.operationId, ledgerId: c.ledgerId, currency: c.currency, amount: c.amount.toString(), balanceAfter: c.balanceAfter.toString() };
}

/** A record of a feed message, its event still undecoded (decoding is paid only when someone watches it). */
export interface FeedRecord {
  readonly keys: readonly string[];
  readonly json: string;
}

/** The process a feed message comes from; `undefined` when it is not a feed message. Reads only its first line. */
export function feedMessageOrigin(message: string): string | undefined {
  const end = message.indexOf('\n');
  const [header, origin, extra] = (end < 0 ? message : message.slice(0, end)).split(' ');
  return header === HEADER && origin !== undefined && origin !== '' && extra === undefined ? origin : undefined;
}

/** The origin and records of a feed message; `undefined` when it is not one. */
export function splitFeedMessage(message: string): { origin: string; records: FeedRecord[] } | undefined {
  const origin = feedMessageOrigin(message);
  if (origin === undefined) return undefined;
  const lines = message.split('\n');
  const records: FeedRecord[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const tab = line.indexOf('\t');
    if (tab <= 0) return undefined;
    records.push({ keys: line.slice(0, tab).split(','), json: line.slice(tab + 1) });
  }
  return { origin, records };
}

/** The event a record carries; `undefined` for one that is not an event of this version. */
export function decodeFeedRecord(json: string): LedgerEvent | undefined {
  let event: Partial<FeedEvent>;
  try {
    event = JSON.parse(json) as Partial<FeedEvent>;
  } catch {
    return undefined;
  }
  if (event.type === 'operation' && typeof event.operation?.id === 'string') return { kind: 'operation', operation: operationFromJson(event.operation) };
  if (event.type === 'balance' && typeof event.ledgerId === 'string') {
    const b = event as BalanceEvent;
    return {
      kind: 'balance',
      change: { operationId: b.operationId, ledgerId: b.ledgerId, currency: b.currency, amount: BigInt(b.amount), balanceAfter: BigInt(b.balanceAfter) },
    };
  }
  return undefined;
}
