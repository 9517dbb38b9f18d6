import { BigIntType, EntitySchema } from '@mikro-orm/postgresql';
import type { OperationKind, OperationStatus } from './status.js';

/**
 * The operations module owns the PostgreSQL schema `operations`: one row per accepted async
 * request, with its request, status, version, steps, result, error and attempts. `seq` is the
 * acceptance order that workers apply a ledger's operations in.
 */

/** JSON forms of steps, results and errors as stored (bigints as decimal strings). */
export interface StoredStep {
  name: string;
  status: 'PENDING' | 'COMPLETED' | 'FAILED';
  time: string;
}
export interface StoredResult {
  balanceChanges: Array<{ ledgerId: string; currency: string; amount: string; balanceAfter: string }>;
}
export interface StoredError {
  code: string;
  message: string;
  details: Record<string, string>;
}

export interface OperationRow {
  id: string;
  seq: string;
  kind: OperationKind;
  status: OperationStatus;
  ledgerId: string;
  transactionId: string;
  partition: number;
  request: Record<string, unknown>;
  requestHash: string;
  version: bigint;
  steps: StoredStep[];
  result: StoredResult | null;
  error: StoredError | null;
  attempts: number;
  createTime: Date;
  updateTime: Date;
  /** Set when retention dropped the payload; the row stays so the transaction id stays unique. */
  prunedTime: Date | null;
  /**
   * Which stage of a multi-stage operation runs next (0 for the first). A stage after the first
   * is handed to another ledger's partition (a transfer's credit) with `status` PENDING, but it
   * is in flight: clients see it PROCESSING, and it cannot be cancelled.
   */
  stage: number;
  /** What a multi-stage operation's applier carries from one stage to the next. */
  progress: Record<string, unknown>;
  /** A transfer's target ledger; null for other kinds. */
  toLedgerId: string | null;
  /** The tenant the operation was submitted for (its ledgers'); null with auth off. */
  tenant: string | null;
  /** The submit's request id (x-request-id, or the one the server made). */
  requestId: string | null;
  /** The submit span's W3C traceparent, when the accepting process recorded traces. */
  traceparent: string | null;
}

export const OperationEntity = new EntitySchema<OperationRow>({
  name: 'Operation',
  schema: 'operations',
  tableName: 'operation',
  properties: {
    id: { type: 'uuid', primary: true },
    seq: { type: new BigIntType('string'), generated: 'identity', persist: false },
    kind: { type: 'text' },
    status: { type: 'text' },
    ledgerId: { type: 'uuid' },
    transactionId: { type: 'text' },
    partition: { type: 'integer' },
    request: { type: 'json' },
    requestHash: { type: 'text' },
    version: { type: new BigIntType('bigint') },
    steps: { type: 'json' },
    result: { type: 'json', nullable: true },
    error: { type: 'json', nullable: true },
    attempts: { type: 'integer' },
    createTime: { type: 'datetime', columnType: 'timestamptz' },
    updateTime: { type: 'datetime', columnType: 'timestamptz' },
    prunedTime: { type: 'datetime', columnType: 'timestamptz', nullable: true },
    stage: { type: 'smallint' },
    progress: { type: 'json' },
    toLedgerId: { type: 'uuid', nullable: true },
    tenant: { type: 'text', nullable: true },
    requestId: { type: 'text', nullable: true },
    traceparent: { type: 'text', nullable: true },
  },
});

/** Most stages one operation may have (a transfer uses three: debit, credit, restore). */
export const MAX_STAGES = 8;

/** The SQLSTATE of `operations.expect_rows`: the worker lost an operation it held (see apply-batch.ts). */
export const LOST_OPERATION_SQLSTATE = 'TL409';

export const operationsEntities = [OperationEntity] as const;
