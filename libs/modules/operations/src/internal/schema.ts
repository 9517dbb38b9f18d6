import { BigIntType, EntitySchema, type MigrationObject } from '@mikro-orm/postgresql';
import { Migration } from '@mikro-orm/migrations';
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
  },
});

class OperationsInitial extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create schema if not exists operations`);
    this.addSql(`
      create table operations.operation (
        id uuid primary key,
        seq bigint generated always as identity unique,
        kind text not null check (kind in ('TRANSACTION', 'TRANSFER', 'EXCHANGE')),
        status text not null check (status in ('PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'CANCELLED')),
        ledger_id uuid not null,
        transaction_id text not null check (char_length(transaction_id) between 1 and 128),
        partition integer not null check (partition >= 0),
        request jsonb not null,
        request_hash text not null,
        version bigint not null default 1 check (version >= 1),
        steps jsonb not null default '[]',
        result jsonb,
        error jsonb,
        attempts integer not null default 0 check (attempts >= 0),
        create_time timestamptz not null default now(),
        update_time timestamptz not null default now(),
        unique (ledger_id, transaction_id),
        check ((status = 'COMPLETED') = (result is not null)),
        check ((status = 'FAILED') = (error is not null))
      )`);
    this.addSql(`create index operation_ledger_seq on operations.operation (ledger_id, seq desc)`);
    this.addSql(`create index operation_status_seq on operations.operation (status, seq desc)`);
    this.addSql(`create index operation_kind_seq on operations.operation (kind, seq desc)`);
  }
}

export const operationsMigrations: readonly MigrationObject[] = [
  { name: 'operations-0001-initial', class: OperationsInitial },
];

export const operationsEntities = [OperationEntity] as const;
