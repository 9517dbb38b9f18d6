import { BigIntType, EntitySchema, type MigrationObject } from '@mikro-orm/postgresql';
import { Migration } from '@mikro-orm/migrations';

/**
 * The ledgers module owns the PostgreSQL schema `ledgers`: ledgers, their accounts (one per
 * ledger and currency, plus per-currency system accounts) and the immutable entries.
 * Double-entry: every posting writes two entries that sum to zero, so each currency sums to
 * zero over all accounts.
 */

export const MAX_NAME_CHARS = 200;

export interface LedgerRow {
  id: string;
  name: string;
  overdraftAllowed: boolean;
  createRequestId: string | null;
  createRequestHash: string | null;
  /** The tenant of the API key that created it; null when created with auth off. */
  tenant: string | null;
  createTime: Date;
  updateTime: Date;
}

/**
 * LEDGER: a ledger's balance in one currency. The others are system accounts per currency:
 * EXTERNAL (money entering or leaving), FX (exchanges), TRANSIT (transfers in flight). A
 * system account is split into shards, one per partition, so that partitions applying in
 * parallel never wait on one hot row; its balance is the sum of its shards.
 */
export type AccountKind = 'LEDGER' | 'EXTERNAL' | 'FX' | 'TRANSIT';

export interface AccountRow {
  id: string;
  ledgerId: string | null;
  kind: AccountKind;
  currency: string;
  /** Within int64 for a ledger account; a system account's has no bound (ledgers-0005). */
  balance: bigint;
  enabled: boolean;
  /** 0 for ledger accounts; the partition, for system accounts. */
  shard: number;
  createTime: Date;
  updateTime: Date;
}

export interface EntryRow {
  id: string;
  postingId: string;
  accountId: string;
  ledgerId: string | null;
  operationId: string;
  transactionId: string;
  currency: string;
  amount: bigint;
  balanceAfter: bigint;
  createTime: Date;
}

export const LedgerEntity = new EntitySchema<LedgerRow>({
  name: 'Ledger',
  schema: 'ledgers',
  tableName: 'ledger',
  properties: {
    id: { type: 'uuid', primary: true },
    name: { type: 'text' },
    overdraftAllowed: { type: 'boolean' },
    createRequestId: { type: 'text', nullable: true },
    createRequestHash: { type: 'text', nullable: true },
    tenant: { type: 'text', nullable: true },
    createTime: { type: 'datetime', columnType: 'timestamptz' },
    updateTime: { type: 'datetime', columnType: 'timestamptz' },
  },
});

export const AccountEntity = new EntitySchema<AccountRow>({
  name: 'Account',
  schema: 'ledgers',
  tableName: 'account',
  properties: {
    id: { type: new BigIntType('string'), primary: true, autoincrement: true },
    ledgerId: { type: 'uuid', nullable: true },
    kind: { type: 'text' },
    currency: { type: 'text' },
    balance: { type: new BigIntType('bigint'), columnType: 'numeric' },
    enabled: { type: 'boolean' },
    shard: { type: 'integer' },
    createTime: { type: 'datetime', columnType: 'timestamptz' },
    updateTime: { type: 'datetime', columnType: 'timestamptz' },
  },
});

export const EntryEntity = new EntitySchema<EntryRow>({
  name: 'Entry',
  schema: 'ledgers',
  tableName: 'entry',
  properties: {
    id: { type: new BigIntType('string'), primary: true, autoincrement: true },
    postingId: { type: new BigIntType('string') },
    accountId: { type: new BigIntType('string') },
    ledgerId: { type: 'uuid', nullable: true },
    operationId: { type: 'uuid' },
    transactionId: { type: 'text' },
    currency: { type: 'text' },
    amount: { type: new BigIntType('bigint') },
    balanceAfter: { type: new BigIntType('bigint'), columnType: 'numeric' },
    createTime: { type: 'datetime', columnType: 'timestamptz' },
  },
});

class LedgersInitial extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create schema if not exists ledgers`);
    this.addSql(`
      create table ledgers.ledger (
        id uuid primary key,
        name text not null check (char_length(name) between 1 and ${MAX_NAME_CHARS}),
        overdraft_allowed boolean not null default false,
        create_request_id text unique,
        create_request_hash text,
        create_time timestamptz not null default now(),
        update_time timestamptz not null default now()
      )`);
    this.addSql(`
      create table ledgers.account (
        id bigint generated always as identity primary key,
        ledger_id uuid references ledgers.ledger (id),
        kind text not null check (kind in ('LEDGER', 'EXTERNAL', 'FX', 'TRANSIT')),
        currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
        balance bigint not null default 0,
        enabled boolean not null default true,
        shard integer not null default 0 check (shard >= 0),
        create_time timestamptz not null default now(),
        update_time timestamptz not null default now(),
        check ((kind = 'LEDGER') = (ledger_id is not null)),
        check (kind = 'LEDGER' or enabled),
        check (kind <> 'LEDGER' or shard = 0)
      )`);
    this.addSql(`create unique index account_ledger_currency on ledgers.account (ledger_id, currency) where kind = 'LEDGER'`);
    this.addSql(`create unique index account_system_currency on ledgers.account (kind, currency, shard) where kind <> 'LEDGER'`);
    this.addSql(`
      create table ledgers.entry (
        id bigint generated always as identity primary key,
        posting_id bigint not null,
        account_id bigint not null references ledgers.account (id),
        ledger_id uuid,
        operation_id uuid not null,
        transaction_id text not null,
        currency char(3) not null,
        amount bigint not null check (amount <> 0),
        balance_after bigint not null,
        create_time timestamptz not null default now()
      )`);
    this.addSql(`create sequence ledgers.posting_id_seq`);
    this.addSql(`create index entry_ledger_id on ledgers.entry (ledger_id, id desc) where ledger_id is not null`);
    this.addSql(`create index entry_ledger_currency_id on ledgers.entry (ledger_id, currency, id desc) where ledger_id is not null`);
    this.addSql(`create index entry_operation on ledgers.entry (operation_id)`);
    this.addSql(`create index entry_posting on ledgers.entry (posting_id)`);
    // Entries are history: once written they never change and are never removed.
    this.addSql(`
      create function ledgers.refuse_entry_change() returns trigger language plpgsql as $$
      begin
        raise exception 'ledgers.entry is append-only: % refused', tg_op using errcode = 'restrict_violation';
      end $$`);
    this.addSql(`
      create trigger entry_append_only before update or delete or truncate on ledgers.entry
      for each statement execute function ledgers.refuse_entry_change()`);
  }
}

/**
 * Entries are written by the thousand by a busy worker; every index is paid on each of them.
 * Postings are only ever read whole by the audit, which scans (and hashes) every entry anyway:
 * their index costs every booking and serves nothing.
 */
class LedgersLeanEntries extends Migration {
  override async up(): Promise<void> {
    this.addSql(`drop index ledgers.entry_posting`);
  }
}

/**
 * Every posting sums to zero in each currency, checked by PostgreSQL on every insert into
 * ledgers.entry: the rows one INSERT statement wrote must sum to zero per (posting, currency),
 * or the statement fails (check_violation) and nothing of it is written. Entries are
 * append-only (0001 refuses update, delete and truncate), so a posting is the union of such
 * zero-sum groups: every posting sums to zero at every moment, not only at commit.
 *
 * Why a statement-level trigger, not a deferred constraint trigger: PostgreSQL's constraint
 * triggers (the only deferrable kind) run once per row, and each would query the table for its
 * posting, by an index that every booking pays for (entry_posting was dropped for that, 0002).
 * A statement trigger reads the statement's own rows once (its transition table) and needs
 * no index. Measured with the booking's own INSERT (EXPLAIN ANALYZE, on a
 * busy 2-core machine), the check takes 0.3-0.7 ms of a 25-50 ms insert of a worker's batch
 * (500 postings, 1,000 entries), and 20-40 ms of a 1.5-2 s insert of 20,000 postings: 1-2 %,
 * within the noise of the insert's own time.
 * Not checked: entries written before this migration, and a session that disables triggers
 * (session_replication_role = replica, as a superuser); the books audit finds those.
 */
class LedgersBalancedPostings extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create function ledgers.check_postings_balance() returns trigger language plpgsql as $$
      declare
        unbalanced record;
      begin
        select i.posting_id, i.currency, sum(i.amount) as total into unbalanced
          from inserted_entries i
         group by i.posting_id, i.currency
        having sum(i.amount) <> 0
         limit 1;
        if found then
          raise exception 'posting % does not sum to zero in % (sums to %)', unbalanced.posting_id, unbalanced.currency, unbalanced.total
            using errcode = 'check_violation';
        end if;
        return null;
      end $$`);
    this.addSql(`
      create trigger entry_postings_balance after insert on ledgers.entry
      referencing new table as inserted_entries
      for each statement execute function ledgers.check_postings_balance()`);
  }
}

/**
 * A ledger belongs to the tenant of the API key that created it (see docs/security.md); ledgers
 * created with auth off, and every ledger made before this migration, belong to none and are
 * reached only with auth off. ListLedgers of one tenant walks its own ledgers by id.
 */
class LedgersTenant extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table ledgers.ledger add column tenant text`);
    this.addSql(`create index ledger_tenant on ledgers.ledger (tenant, id)`);
  }
}

/**
 * A system account's balance is what every ledger of its shard moved through it: no fixed width
 * holds it (N ledgers hold up to N times int64 max between them, and money credited in one shard
 * and debited in another grows both shards' EXTERNAL accounts with every round). Bounded by
 * int64, one ledger's credit of int64 max pushed its shard's EXTERNAL account to the edge and
 * every other ledger's credit in that currency was refused (issue #9). Balances become `numeric`
 * (whole numbers of any size); a ledger's, which callers see as an int64, stays within int64, as
 * does a ledger entry's balance after, checked here as booking decides (booking/decide.ts).
 * Amounts stay `bigint`: each is one ledger's movement.
 *
 * Not a system account per ledger: a ledger's own net flow through EXTERNAL is not bounded by its
 * balance either (credit int64 max, transfer it away, credit again), and a batch would lock one
 * system account per ledger it touches instead of one per currency.
 *
 * Both tables are rewritten once, under an exclusive lock: about 5 s per million entries on the
 * 2-core test machine, hence no statement timeout for this migration's transaction. Processes
 * from before it hold prepared statements that return `bigint`: stop them before it runs.
 */
class LedgersUnboundedSystemBalances extends Migration {
  override async up(): Promise<void> {
    this.addSql(`set local statement_timeout = 0`);
    this.addSql(`
      alter table ledgers.account
        alter column balance type numeric,
        add constraint account_balance_whole check (scale(balance) = 0),
        add constraint account_ledger_balance_int64 check (kind <> 'LEDGER' or balance between -9223372036854775808 and 9223372036854775807)`);
    this.addSql(`
      alter table ledgers.entry
        alter column balance_after type numeric,
        add constraint entry_balance_after_range check (
          scale(balance_after) = 0 and (ledger_id is null or balance_after between -9223372036854775808 and 9223372036854775807))`);
  }
}

export const ledgersMigrations: readonly MigrationObject[] = [
  { name: 'ledgers-0001-initial', class: LedgersInitial },
  { name: 'ledgers-0002-lean-entries', class: LedgersLeanEntries },
  { name: 'ledgers-0003-balanced-postings', class: LedgersBalancedPostings },
  { name: 'ledgers-0004-tenant', class: LedgersTenant },
  { name: 'ledgers-0005-unbounded-system-balances', class: LedgersUnboundedSystemBalances },
];

export const ledgersEntities = [LedgerEntity, AccountEntity, EntryEntity] as const;
