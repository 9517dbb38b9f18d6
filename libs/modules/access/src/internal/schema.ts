import { Migration } from '@mikro-orm/migrations';
import type { MigrationObject } from '@mikro-orm/postgresql';

/**
 * The access module owns the PostgreSQL schema `access`: API keys (only their SHA-256 is
 * kept) and the server's own secrets (the key that signs page tokens, when TALLY_TOKEN_SECRET
 * is unset).
 */
class AccessInitial extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create schema if not exists access`);
    this.addSql(`
      create table access.api_key (
        id uuid primary key,
        tenant text not null check (tenant ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
        scopes text[] not null check (cardinality(scopes) > 0 and scopes <@ array['read', 'write', 'admin']),
        key_hash char(64) not null unique,
        hint text not null,
        create_time timestamptz not null default now(),
        revoke_time timestamptz
      )`);
    this.addSql(`
      create table access.secret (
        name text primary key,
        value text not null,
        create_time timestamptz not null default now()
      )`);
  }
}

export const accessMigrations: readonly MigrationObject[] = [{ name: 'access-0001-initial', class: AccessInitial }];
