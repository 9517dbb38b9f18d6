import { Migration } from '@mikro-orm/migrations';
import type { MigrationObject } from '@mikro-orm/postgresql';

/**
 * The exchange module owns the PostgreSQL schema `exchange`: quotes, each a rate locked for an
 * amount until it expires, used by at most one exchange.
 */
class ExchangeInitial extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create schema if not exists exchange`);
    this.addSql(`
      create table exchange.quote (
        id uuid primary key,
        from_currency char(3) not null,
        to_currency char(3) not null check (to_currency <> from_currency),
        rate text not null,
        from_amount bigint not null check (from_amount > 0),
        to_amount bigint not null check (to_amount >= 0),
        rate_as_of_time timestamptz not null,
        expire_time timestamptz not null,
        create_time timestamptz not null default now(),
        used_by_operation_id uuid unique,
        used_time timestamptz,
        check ((used_by_operation_id is null) = (used_time is null))
      )`);
    this.addSql(`create index quote_expire on exchange.quote (expire_time)`);
  }
}

/**
 * Which request used a quote (its ledger and transaction id, beside the operation id): a client
 * retrying that very exchange, after the quote was used by it, gets its operation back instead
 * of QUOTE_ALREADY_USED. Quotes used before this migration keep both null: a retry of those is
 * refused as before.
 */
class ExchangeQuoteUsedByRequest extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table exchange.quote add column used_by_ledger_id uuid, add column used_by_transaction_id text`);
  }
}

/**
 * The tenant a quote was made for (null with auth off, as for ledgers): another tenant's exchange
 * naming it is answered NOT_FOUND, as if it did not exist. Quotes made before this migration
 * belong to no tenant, and so only to callers with auth off.
 */
class ExchangeQuoteTenant extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table exchange.quote add column tenant text`);
  }
}

export const exchangeMigrations: readonly MigrationObject[] = [
  { name: 'exchange-0001-initial', class: ExchangeInitial },
  { name: 'exchange-0002-quote-used-by-request', class: ExchangeQuoteUsedByRequest },
  { name: 'exchange-0003-quote-tenant', class: ExchangeQuoteTenant },
];
