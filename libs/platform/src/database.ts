import { Migrator } from '@mikro-orm/migrations';
import { MikroORM, type EntityManager, type EntitySchema, type MigrationObject } from '@mikro-orm/postgresql';
import pg from 'pg';
import type { Logger } from './logger.js';
import { SqlPool, statement } from './sql.js';

/**
 * PostgreSQL, the source of truth. Each module owns a PostgreSQL schema named after it, its
 * entities and its migrations; the process opens one MikroORM instance over all of them (the
 * schema, migrations and the paths where speed does not matter) and one `pg` pool for the hot
 * paths (`sql`: named prepared statements, see sql.ts).
 */

/** What a module brings to the database: its entities and its migrations, oldest first. */
export interface ModuleSchema {
  /** The module's name, also the PostgreSQL schema it owns. */
  readonly name: string;
  // EntitySchema's type parameters vary per entity; the ORM takes them all alike.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly entities: readonly EntitySchema<any, any>[];
  readonly migrations: readonly MigrationObject[];
}

export interface DatabaseOptions {
  readonly url: string;
  readonly modules: readonly ModuleSchema[];
  readonly logger: Logger;
  /** Connections in the hot paths' pool (`sql`). */
  readonly poolMax?: number;
}

/** How long to wait for a connection before a request fails UNAVAILABLE. */
const CONNECT_TIMEOUT_MS = 3_000;
/** No statement may hold a connection longer than this. */
const STATEMENT_TIMEOUT_MS = 15_000;
/** The hot paths' pool: submits, the worker, balances, watches. */
const DEFAULT_POOL_MAX = 10;
/** MikroORM's pool: creating ledgers, listings, the audit, migrations. */
const ORM_POOL_MAX = 4;

export class Database {
  private constructor(
    readonly orm: MikroORM,
    /** Named prepared statements over `pg`, for the hot paths. */
    readonly sql: SqlPool,
  ) {}

  static async open(options: DatabaseOptions): Promise<Database> {
    const log = options.logger.child({ component: 'database' });
    const orm = await MikroORM.init({
      clientUrl: options.url,
      entities: options.modules.flatMap((m) => [...m.entities]),
      extensions: [Migrator],
      migrations: {
        migrationsList: options.modules.flatMap((m) => [...m.migrations]),
        tableName: 'schema_migrations',
        transactional: true,
        allOrNothing: true,
        silent: true,
      },
      discovery: { warnWhenNoEntities: false },
      pool: { min: 0, max: ORM_POOL_MAX, acquireTimeoutMillis: CONNECT_TIMEOUT_MS },
      driverOptions: {
        connection: { connectionTimeoutMillis: CONNECT_TIMEOUT_MS, statement_timeout: STATEMENT_TIMEOUT_MS },
      },
      allowGlobalContext: false,
      debug: false,
      logger: (message) => log.debug(message),
    });
    const sql = new SqlPool({
      url: options.url,
      logger: options.logger,
      maxConnections: options.poolMax ?? DEFAULT_POOL_MAX,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      statementTimeoutMs: STATEMENT_TIMEOUT_MS,
      applicationName: 'tally',
    });
    return new Database(orm, sql);
  }

  /** A fresh unit of work; use one per request or job, never share it. */
  em(): EntityManager {
    return this.orm.em.fork();
  }

  /** Applies every pending migration in one transaction; returns the names applied. */
  async migrate(): Promise<string[]> {
    const applied = await this.orm.getMigrator().up();
    return applied.map((m) => m.name);
  }

  async pendingMigrations(): Promise<string[]> {
    return (await this.orm.getMigrator().getPendingMigrations()).map((m) => m.name);
  }

  /** Resolves when PostgreSQL answers a trivial query. */
  async ping(): Promise<void> {
    await this.sql.query(PING);
  }

  async close(): Promise<void> {
    await Promise.all([this.orm.close(true), this.sql.close()]);
  }
}

const PING = statement('platform_ping', 'select 1');

/** Creates the database named in `url` when it does not exist yet. */
export async function ensureDatabaseExists(url: string): Promise<boolean> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_]{1,63}$/.test(name)) {
    throw new Error(`database name ${JSON.stringify(name)} must be 1-63 letters, digits or underscores`);
  }
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount !== 0) return false;
    try {
      await client.query(`create database "${name}"`);
    } catch (error) {
      // Another process created it between our check and our create: that is fine.
      if ((error as { code?: string }).code !== '42P04') throw error;
    }
    return true;
  } finally {
    await client.end();
  }
}
