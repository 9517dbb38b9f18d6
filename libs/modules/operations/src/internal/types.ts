import type { BalanceChange, OperationError, OperationStep, TenantScope } from '@tally/platform';
import type { OperationKind, OperationStatus } from './status.js';

export type { BalanceChange, OperationError, OperationStep };

export interface OperationResult {
  readonly balanceChanges: readonly BalanceChange[];
}

export interface Operation {
  readonly id: string;
  readonly kind: OperationKind;
  readonly status: OperationStatus;
  readonly ledgerId: string;
  /** A transfer's target ledger; null for other kinds. */
  readonly toLedgerId: string | null;
  /** Whose it is: the tenant of its ledgers (null when submitted with auth off). */
  readonly tenant: string | null;
  readonly transactionId: string;
  /** 1 when accepted; grows by one with every change. */
  readonly version: bigint;
  readonly steps: readonly OperationStep[];
  readonly result: OperationResult | null;
  readonly error: OperationError | null;
  readonly attempts: number;
  readonly createTime: Date;
  readonly updateTime: Date;
  /** Where it came from: the submit's request id, and its span's W3C traceparent when traces were on. */
  readonly origin?: OperationOrigin;
}

/** What ties an operation to the request that submitted it (logs and traces). */
export interface OperationOrigin {
  readonly requestId: string | null;
  readonly traceparent: string | null;
}

export interface ListOperationsInput {
  /** Empty for every ledger (of the caller's tenant). */
  readonly ledgerId: string;
  /** Whose operations are listed. */
  readonly scope: TenantScope;
  readonly status: OperationStatus | null;
  readonly kind: OperationKind | null;
  readonly pageSize: number;
  readonly pageToken: string;
}

/** One change on a watched ledger. */
export type LedgerEvent =
  | { readonly kind: 'operation'; readonly operation: Operation }
  | { readonly kind: 'balance'; readonly change: BalanceChange & { readonly operationId: string } };
