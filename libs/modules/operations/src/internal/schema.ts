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

/**
 * Processing: indexes the worker's claims use, retention (a pruned operation keeps the row
 * that makes its transaction id unique, without its payload), and the state machine enforced
 * by PostgreSQL itself, so no code path can move a status backwards or skip a version.
 */
class OperationsProcessing extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table operations.operation add column pruned_time timestamptz`);
    this.addSql(`alter table operations.operation drop constraint operation_check, drop constraint operation_check1`);
    this.addSql(`
      alter table operations.operation
        add constraint operation_result_iff_completed check (pruned_time is not null or (status = 'COMPLETED') = (result is not null)),
        add constraint operation_error_iff_failed check (pruned_time is not null or (status = 'FAILED') = (error is not null)),
        add constraint operation_pruned_only_terminal check (pruned_time is null or status in ('COMPLETED', 'FAILED', 'CANCELLED'))`);
    this.addSql(`create index operation_pending on operations.operation (partition, seq) where status = 'PENDING'`);
    this.addSql(`create index operation_processing on operations.operation (partition, seq) where status = 'PROCESSING'`);
    this.addSql(`
      create index operation_prunable on operations.operation (update_time)
      where pruned_time is null and status in ('COMPLETED', 'FAILED', 'CANCELLED')`);
    this.addSql(`
      create function operations.check_operation_change() returns trigger language plpgsql as $$
      begin
        if new.id <> old.id or new.seq <> old.seq or new.ledger_id <> old.ledger_id
           or new.transaction_id <> old.transaction_id or new.kind <> old.kind or new.request_hash <> old.request_hash then
          raise exception 'operation %: identity columns are immutable', old.id using errcode = 'check_violation';
        end if;
        if new.pruned_time is not null and old.pruned_time is null then
          return new; -- retention: payload dropped, status and version kept
        end if;
        if new.version <> old.version + 1 then
          raise exception 'operation %: version must grow by one (% -> %)', old.id, old.version, new.version
            using errcode = 'check_violation';
        end if;
        if not (
             (old.status = 'PENDING' and new.status in ('PROCESSING', 'CANCELLED'))
          or (old.status = 'PROCESSING' and new.status in ('COMPLETED', 'FAILED', 'PENDING'))
          or (old.status = 'FAILED' and new.status = 'PENDING' and old.error ->> 'code' = 'RETRIES_EXHAUSTED')
        ) then
          raise exception 'operation %: status cannot move from % to %', old.id, old.status, new.status
            using errcode = 'check_violation';
        end if;
        return new;
      end $$`);
    this.addSql(`
      create trigger operation_state_machine before update on operations.operation
      for each row execute function operations.check_operation_change()`);
  }
}

/** Most stages one operation may have (a transfer uses three: debit, credit, restore). */
export const MAX_STAGES = 8;

/**
 * Multi-stage operations (transfers): an operation may be handed from one ledger's partition
 * to another between stages, each stage committing its effects with the operation's new state.
 * The result may hold the balance changes made so far; a transfer is listed on both ledgers.
 */
class OperationsStages extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table operations.operation
        add column stage smallint not null default 0 check (stage >= 0 and stage < ${MAX_STAGES}),
        add column progress jsonb not null default '{}',
        add column to_ledger_id uuid`);
    this.addSql(`
      alter table operations.operation
        drop constraint operation_result_iff_completed,
        add constraint operation_result_when_completed check (pruned_time is not null or status <> 'COMPLETED' or result is not null),
        add constraint operation_no_result_when_cancelled check (status <> 'CANCELLED' or result is null)`);
    this.addSql(`create index operation_to_ledger_seq on operations.operation (to_ledger_id, seq desc) where to_ledger_id is not null`);
  }
}

/**
 * The state machine for stages and preparations: a later stage never goes back and, waiting
 * PENDING in its next partition, is never cancelled; a kind may record what it settled before
 * applying (an exchange's locked rate) as a version of its own, the operation staying
 * PROCESSING. (0003 added the columns; this is the one definition of the trigger since.)
 */
class OperationsStagesStateMachine extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create or replace function operations.check_operation_change() returns trigger language plpgsql as $$
      begin
        if new.id <> old.id or new.seq <> old.seq or new.ledger_id <> old.ledger_id or new.to_ledger_id is distinct from old.to_ledger_id
           or new.transaction_id <> old.transaction_id or new.kind <> old.kind or new.request_hash <> old.request_hash then
          raise exception 'operation %: identity columns are immutable', old.id using errcode = 'check_violation';
        end if;
        if new.pruned_time is not null and old.pruned_time is null then
          return new; -- retention: payload dropped, status and version kept
        end if;
        if new.version <> old.version + 1 then
          raise exception 'operation %: version must grow by one (% -> %)', old.id, old.version, new.version
            using errcode = 'check_violation';
        end if;
        if new.stage < old.stage then
          raise exception 'operation %: stage cannot go back (% -> %)', old.id, old.stage, new.stage using errcode = 'check_violation';
        end if;
        if not (
             (old.status = 'PENDING' and new.status = 'PROCESSING')
          or (old.status = 'PENDING' and new.status = 'CANCELLED' and old.stage = 0)
          or (old.status = 'PROCESSING' and new.status in ('PROCESSING', 'COMPLETED', 'FAILED', 'PENDING'))
          or (old.status = 'FAILED' and new.status = 'PENDING' and old.error ->> 'code' = 'RETRIES_EXHAUSTED')
        ) then
          raise exception 'operation %: status cannot move from % to % (stage %)', old.id, old.status, new.status, old.stage
            using errcode = 'check_violation';
        end if;
        return new;
      end $$`);
  }
}

export const operationsMigrations: readonly MigrationObject[] = [
  { name: 'operations-0001-initial', class: OperationsInitial },
  { name: 'operations-0002-processing', class: OperationsProcessing },
  { name: 'operations-0003-stages', class: OperationsStages },
  { name: 'operations-0004-preparations', class: OperationsStagesStateMachine },
];

export const operationsEntities = [OperationEntity] as const;
