import { Migration } from '@mikro-orm/migrations';
import type { MigrationObject } from '@mikro-orm/postgresql';
import { LOST_OPERATION_SQLSTATE, MAX_STAGES } from './schema.js';

/**
 * The migrations of the schema `operations`, oldest first; the tables' shapes are in schema.ts.
 * Applied migrations are history: change the schema with a new one, never by editing these.
 */

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

/**
 * The work queue, apart from the history. Operations in flight (PENDING, or PROCESSING) are
 * listed in `operations.queue` by partition and acceptance order: that small table is what
 * the worker claims from, and it shrinks as operations end. The operation table keeps no index
 * on what changes while an operation is applied (status, version, update time), so those
 * updates are HOT (the new row version stays on its page, no index is touched), and its pages
 * keep room for them (fillfactor). Listing by status walks the acceptance order instead.
 * Retention finds what to prune by creation time among the rows not yet pruned.
 */
class OperationsWorkQueue extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table operations.queue (
        partition integer not null check (partition >= 0),
        seq bigint not null,
        id uuid not null,
        primary key (partition, seq)
      ) with (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000, autovacuum_vacuum_cost_delay = 0)`);
    this.addSql(`
      insert into operations.queue (partition, seq, id)
      select partition, seq, id from operations.operation where status in ('PENDING', 'PROCESSING')`);
    this.addSql(`drop index operations.operation_kind_seq, operations.operation_status_seq, operations.operation_pending,
                   operations.operation_processing, operations.operation_prunable`);
    this.addSql(`create index operation_unpruned on operations.operation (create_time) where pruned_time is null`);
    this.addSql(`alter table operations.operation set (fillfactor = 60)`);
  }
}

/**
 * Accepting in one round trip: the ledgers' advisory locks (see accept.ts), the new operations
 * and their places in the work queue, in one statement that commits on its own. A submit then
 * waits for one round trip to PostgreSQL, not four.
 */
class OperationsAcceptFunction extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create function operations.accept(ops jsonb)
      returns table (accepted_id uuid, accepted_seq bigint, accepted_create_time timestamptz, accepted_update_time timestamptz)
      language plpgsql as $$
      begin
        -- Ledger after ledger in id order: two transactions accepting for the same ledgers never deadlock.
        perform pg_advisory_xact_lock(hashtextextended(l.ledger_id::text, 0))
           from (select distinct x.ledger_id from jsonb_to_recordset(ops) as x(ledger_id uuid) order by 1) as l;
        return query
          with inserted as (
            insert into operations.operation (id, kind, status, ledger_id, to_ledger_id, transaction_id, partition, request, request_hash)
            select x.id, x.kind, 'PENDING', x.ledger_id, x.to_ledger_id, x.transaction_id, x.partition, x.request, x.request_hash
              from jsonb_to_recordset(ops) as x(ord int, id uuid, kind text, ledger_id uuid, to_ledger_id uuid, transaction_id text,
                                                partition int, request jsonb, request_hash text)
             order by x.ord
            on conflict (ledger_id, transaction_id) do nothing
            returning operation.id, operation.seq, operation.partition, operation.create_time, operation.update_time
          ), queued as (
            insert into operations.queue (partition, seq, id) select i.partition, i.seq, i.id from inserted i
          )
          select i.id, i.seq, i.create_time, i.update_time from inserted i;
      end $$`);
  }
}

/**
 * A guard a statement can carry: the worker writes a batch's outcomes and commits in the same
 * round trip, so the check that every operation was still held (at the version it claimed)
 * raises inside PostgreSQL, failing the transaction, rather than being looked at afterwards.
 */
class OperationsExpectRows extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create function operations.expect_rows(actual bigint, expected bigint, what text) returns void
      language plpgsql as $$
      begin
        if actual <> expected then
          raise exception '%: % of % operations were not where the worker held them', what, expected - actual, expected
            using errcode = '${LOST_OPERATION_SQLSTATE}';
        end if;
      end $$`);
  }
}

/**
 * The work queue found by seq: an operation is listed at most once (its seq is its own), and
 * the worker removes or moves the rows of a finished batch by seq, through this index.
 */
class OperationsQueueBySeq extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create unique index queue_seq on operations.queue (seq)`);
  }
}

/**
 * Retention keeps the status: the branch that lets pruning drop an ended operation's payload
 * skipped the state machine whole, so an update that pruned could also move COMPLETED to
 * FAILED (the constraints allow any ended status once pruned). Pruning now keeps status and
 * version; every other change goes through the machine, as in 0004. The moves are those of
 * TRANSITIONS in status.ts, which test/state-machine.test.ts checks against this trigger.
 */
class OperationsRetentionKeepsStatus extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create or replace function operations.check_operation_change() returns trigger language plpgsql as $$
      begin
        if new.id <> old.id or new.seq <> old.seq or new.ledger_id <> old.ledger_id or new.to_ledger_id is distinct from old.to_ledger_id
           or new.transaction_id <> old.transaction_id or new.kind <> old.kind or new.request_hash <> old.request_hash then
          raise exception 'operation %: identity columns are immutable', old.id using errcode = 'check_violation';
        end if;
        if new.pruned_time is not null and old.pruned_time is null then
          if new.status <> old.status or new.version <> old.version then
            raise exception 'operation %: pruning keeps status and version (% v% -> % v%)', old.id, old.status, old.version, new.status, new.version
              using errcode = 'check_violation';
          end if;
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

/**
 * An operation carries the tenant it was submitted for (that of its ledgers, see docs/security.md),
 * so that one tenant's ListOperations and operation reads never show another's, without asking
 * the ledgers module. Accepting records it; nothing changes it afterwards.
 */
class OperationsTenant extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table operations.operation add column tenant text`);
    this.addSql(`create index operation_tenant_seq on operations.operation (tenant, seq)`);
    this.addSql(`
      create or replace function operations.accept(ops jsonb)
      returns table (accepted_id uuid, accepted_seq bigint, accepted_create_time timestamptz, accepted_update_time timestamptz)
      language plpgsql as $$
      begin
        -- Ledger after ledger in id order: two transactions accepting for the same ledgers never deadlock.
        perform pg_advisory_xact_lock(hashtextextended(l.ledger_id::text, 0))
           from (select distinct x.ledger_id from jsonb_to_recordset(ops) as x(ledger_id uuid) order by 1) as l;
        return query
          with inserted as (
            insert into operations.operation (id, kind, status, ledger_id, to_ledger_id, transaction_id, partition, request, request_hash, tenant)
            select x.id, x.kind, 'PENDING', x.ledger_id, x.to_ledger_id, x.transaction_id, x.partition, x.request, x.request_hash, x.tenant
              from jsonb_to_recordset(ops) as x(ord int, id uuid, kind text, ledger_id uuid, to_ledger_id uuid, transaction_id text,
                                                partition int, request jsonb, request_hash text, tenant text)
             order by x.ord
            on conflict (ledger_id, transaction_id) do nothing
            returning operation.id, operation.seq, operation.partition, operation.create_time, operation.update_time
          ), queued as (
            insert into operations.queue (partition, seq, id) select i.partition, i.seq, i.id from inserted i
          )
          select i.id, i.seq, i.create_time, i.update_time from inserted i;
      end $$`);
  }
}

/**
 * Which worker applies each partition, as PostgreSQL sees it: the fence behind the leases in
 * Redis. A worker that takes a partition's lease writes itself here before applying it, and its
 * claims and resumes read this row (FOR SHARE) and take nothing from a partition another worker
 * has taken since. A lease alone cannot keep a ledger's order when Redis restarts empty: the new
 * holder may start while the old one still believes it holds the partition (found by the chaos
 * run). The takeover's update waits for the old holder's claims in flight, so what they took is
 * PROCESSING, and resumed first, when the new holder starts.
 */
class OperationsPartitionOwner extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table operations.partition_owner (
        partition integer primary key check (partition >= 0),
        owner text not null,
        taken_time timestamptz not null default now()
      )`);
  }
}

/**
 * An operation remembers the request that submitted it: its request id, for the logs of its
 * terminal transition, and its span's W3C traceparent, under which the worker's apply span is
 * recorded (docs/operating.md). Both are null for operations accepted before, and the
 * traceparent when the accepting process records no traces.
 */
class OperationsOrigin extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table operations.operation add column request_id text, add column traceparent text`);
    this.addSql(`
      create or replace function operations.accept(ops jsonb)
      returns table (accepted_id uuid, accepted_seq bigint, accepted_create_time timestamptz, accepted_update_time timestamptz)
      language plpgsql as $$
      begin
        -- Ledger after ledger in id order: two transactions accepting for the same ledgers never deadlock.
        perform pg_advisory_xact_lock(hashtextextended(l.ledger_id::text, 0))
           from (select distinct x.ledger_id from jsonb_to_recordset(ops) as x(ledger_id uuid) order by 1) as l;
        return query
          with inserted as (
            insert into operations.operation (id, kind, status, ledger_id, to_ledger_id, transaction_id, partition, request, request_hash, tenant,
                                              request_id, traceparent)
            select x.id, x.kind, 'PENDING', x.ledger_id, x.to_ledger_id, x.transaction_id, x.partition, x.request, x.request_hash, x.tenant,
                   x.request_id, x.traceparent
              from jsonb_to_recordset(ops) as x(ord int, id uuid, kind text, ledger_id uuid, to_ledger_id uuid, transaction_id text,
                                                partition int, request jsonb, request_hash text, tenant text, request_id text, traceparent text)
             order by x.ord
            on conflict (ledger_id, transaction_id) do nothing
            returning operation.id, operation.seq, operation.partition, operation.create_time, operation.update_time
          ), queued as (
            insert into operations.queue (partition, seq, id) select i.partition, i.seq, i.id from inserted i
          )
          select i.id, i.seq, i.create_time, i.update_time from inserted i;
      end $$`);
  }
}

export const operationsMigrations: readonly MigrationObject[] = [
  { name: 'operations-0001-initial', class: OperationsInitial },
  { name: 'operations-0002-processing', class: OperationsProcessing },
  { name: 'operations-0003-stages', class: OperationsStages },
  { name: 'operations-0004-preparations', class: OperationsStagesStateMachine },
  { name: 'operations-0005-work-queue', class: OperationsWorkQueue },
  { name: 'operations-0006-accept-function', class: OperationsAcceptFunction },
  { name: 'operations-0007-expect-rows', class: OperationsExpectRows },
  { name: 'operations-0008-queue-by-seq', class: OperationsQueueBySeq },
  { name: 'operations-0009-retention-keeps-status', class: OperationsRetentionKeepsStatus },
  { name: 'operations-0010-tenant', class: OperationsTenant },
  { name: 'operations-0011-partition-owner', class: OperationsPartitionOwner },
  { name: 'operations-0012-origin', class: OperationsOrigin },
];
