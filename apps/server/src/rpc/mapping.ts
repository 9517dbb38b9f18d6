import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  BalanceChangeSchema,
  BalanceSchema,
  EntrySchema,
  LedgerSchema,
  OperationErrorSchema,
  OperationKind,
  OperationResultSchema,
  OperationSchema,
  OperationStatus,
  OperationStepSchema,
  StepStatus,
  type Balance,
  type BalanceChange,
  type Entry,
  type Ledger,
  type Operation,
} from '@tally/contracts';
import type * as ledgers from '@tally/ledgers';
import type * as operations from '@tally/operations';

/** Domain values to wire messages and back. The only place that knows both shapes. */

export function ledgerToProto(ledger: ledgers.Ledger): Ledger {
  return create(LedgerSchema, {
    id: ledger.id,
    name: ledger.name,
    currencies: [...ledger.currencies],
    overdraftAllowed: ledger.overdraftAllowed,
    createTime: timestampFromDate(ledger.createTime),
    updateTime: timestampFromDate(ledger.updateTime),
  });
}

export function balanceToProto(balance: ledgers.Balance): Balance {
  return create(BalanceSchema, balance);
}

export function entryToProto(entry: ledgers.Entry): Entry {
  return create(EntrySchema, { ...entry, createTime: timestampFromDate(entry.createTime) });
}

const KIND_TO_PROTO: Record<operations.OperationKind, OperationKind> = {
  TRANSACTION: OperationKind.TRANSACTION,
  TRANSFER: OperationKind.TRANSFER,
  EXCHANGE: OperationKind.EXCHANGE,
};

const STATUS_TO_PROTO: Record<operations.OperationStatus, OperationStatus> = {
  PENDING: OperationStatus.PENDING,
  PROCESSING: OperationStatus.PROCESSING,
  COMPLETED: OperationStatus.COMPLETED,
  FAILED: OperationStatus.FAILED,
  CANCELLED: OperationStatus.CANCELLED,
};

const STEP_TO_PROTO: Record<operations.OperationStep['status'], StepStatus> = {
  PENDING: StepStatus.PENDING,
  COMPLETED: StepStatus.COMPLETED,
  FAILED: StepStatus.FAILED,
};

export function operationToProto(op: operations.Operation): Operation {
  return create(OperationSchema, {
    id: op.id,
    kind: KIND_TO_PROTO[op.kind],
    status: STATUS_TO_PROTO[op.status],
    ledgerId: op.ledgerId,
    toLedgerId: op.toLedgerId ?? '',
    transactionId: op.transactionId,
    version: op.version,
    steps: op.steps.map((s) =>
      create(OperationStepSchema, { name: s.name, status: STEP_TO_PROTO[s.status], time: timestampFromDate(s.time) }),
    ),
    result:
      op.result === null
        ? undefined
        : create(OperationResultSchema, {
            balanceChanges: op.result.balanceChanges.map((c) => create(BalanceChangeSchema, c)),
          }),
    error: op.error === null ? undefined : create(OperationErrorSchema, { ...op.error, details: { ...op.error.details } }),
    attempts: op.attempts,
    createTime: timestampFromDate(op.createTime),
    updateTime: timestampFromDate(op.updateTime),
  });
}

/** A balance change on a watched ledger; which operation made it is in the Operation events. */
export function balanceChangeToProto(change: operations.BalanceChange): BalanceChange {
  return create(BalanceChangeSchema, {
    ledgerId: change.ledgerId,
    currency: change.currency,
    amount: change.amount,
    balanceAfter: change.balanceAfter,
  });
}

/** Wire filter enums to domain filters; UNSPECIFIED means no filter. Unknown numbers are refused by the caller. */
export function statusFromProto(status: OperationStatus): operations.OperationStatus | null | undefined {
  if (status === OperationStatus.UNSPECIFIED) return null;
  return (Object.keys(STATUS_TO_PROTO) as operations.OperationStatus[]).find((k) => STATUS_TO_PROTO[k] === status);
}

export function kindFromProto(kind: OperationKind): operations.OperationKind | null | undefined {
  if (kind === OperationKind.UNSPECIFIED) return null;
  return (Object.keys(KIND_TO_PROTO) as operations.OperationKind[]).find((k) => KIND_TO_PROTO[k] === kind);
}
