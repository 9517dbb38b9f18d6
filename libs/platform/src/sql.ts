import pg from 'pg';
import type { Logger } from './logger.js';
import { scraped } from './metrics.js';

/**
 * The hot paths' way to PostgreSQL: `pg` directly, every statement a named prepared statement
 * (parsed and planned once per connection, then sent as a name and its values). MikroORM owns
 * the entities, the schema and the migrations and serves the paths where speed does not matter;
 * submits, the worker's claim/apply/finish, balances and watch reads come through here.
 *
 * Connections are pipelined: statements a transaction issues together (in one turn of the event
 * loop) travel in one write and are answered in one round trip, instead of one round trip each.
 * On this kind of machine a round trip to PostgreSQL costs more than most statements it carries.
 *
 * Values travel as text: bigints as decimal strings (PostgreSQL's `bigint` comes back as a
 * string too), JSON as a string cast with `::jsonb`. Timestamps come back as `Date`.
 */

/** A statement prepared once per connection under its name. Names are unique per text. */
export interface Statement {
  readonly name: string;
  readonly text: string;
}

const declared = new Map<string, string>();

/**
 * Declares a statement. Two different texts under one name would run the wrong plan on a
 * connection that prepared the other one: a bug, refused at declaration.
 */
export function statement(name: string, text: string): Statement {
  const earlier = declared.get(name);
  if (earlier !== undefined && earlier !== text) throw new Error(`statement ${name} is declared twice with different texts`);
  declared.set(name, text);
  return { name, text };
}

/** Runs statements: the pool (each statement its own transaction) or a transaction. */
export interface Sql {
  /** The rows the statement returned. */
  query<Row extends object>(statement: Statement, values?: readonly unknown[]): Promise<Row[]>;
}

declare const inTransaction: unique symbol;

/** Statements inside one transaction: what a unit of work hands to the modules it calls. */
export interface SqlTransaction extends Sql {
  /**
   * Sends a statement now without waiting for it: it travels with whatever else is issued in
   * this turn, and with the COMMIT, which PostgreSQL runs after it; if it fails, the transaction
   * does not commit and fails with its error. Its rows may be awaited after the transaction.
   * A check that must hold before committing belongs in the statement itself (it raises), or
   * in an awaited `query`: nothing of a deferred statement's answer is seen before the commit.
   */
  defer<Row extends object>(statement: Statement, values?: readonly unknown[]): Promise<Row[]>;
  readonly [inTransaction]: true;
}

export interface SqlPoolOptions {
  readonly url: string;
  readonly logger: Logger;
  /** Connections in the pool. */
  readonly maxConnections: number;
  /** How long to wait for a connection before the call fails (transiently). */
  readonly connectTimeoutMs: number;
  /** No statement may hold a connection longer than this. */
  readonly statementTimeoutMs: number;
  /** Names the connections in pg_stat_activity. */
  readonly applicationName: string;
}

export class SqlPool implements Sql {
  readonly #pool: pg.Pool;
  readonly #unscrape: () => void;

  constructor(options: SqlPoolOptions) {
    this.#pool = new pg.Pool({
      connectionString: options.url,
      max: options.maxConnections,
      connectionTimeoutMillis: options.connectTimeoutMs,
      statement_timeout: options.statementTimeoutMs,
      application_name: options.applicationName,
      idleTimeoutMillis: 30_000,
      // Connections are replaced every 30 s, and their statements planned anew. PostgreSQL
      // settles on a generic plan for a prepared statement after five executions and keeps it
      // for the connection's life: planned while the tables were small (a fresh database), a
      // join on a list of ids stays a sequential scan as they grow. The worker's status update
      // averaged 15 ms a call over the bench's first 90,000 operations and 38 ms by 170,000,
      // against about 1 ms with fresh plans (docs/performance.md, step 6). Planning every
      // execution instead (plan_cache_mode=force_custom_plan) cost 8-15% of the throughput.
      maxLifetimeSeconds: 30,
      // Documented node-postgres option (pg 8.16+): queries are sent without waiting for the
      // previous answer. Pool clients are used by one caller at a time, as without it.
      pipeline: true,
    } as pg.PoolConfig);
    const log = options.logger.child({ component: 'sql' });
    // An idle connection that breaks (PostgreSQL restarting) is dropped by the pool; without a
    // listener the error would crash the process.
    this.#pool.on('error', (error) => log.warn({ err: error.message }, 'idle PostgreSQL connection lost'));
    this.#unscrape = scraped.dbPool.onScrape(() => {
      const { total, idle, waiting } = this.stats;
      return [
        [{ state: 'total' }, total],
        [{ state: 'idle' }, idle],
        [{ state: 'waiting' }, waiting],
      ];
    });
  }

  /** Connections open now, and how many callers wait for one. */
  get stats(): { total: number; idle: number; waiting: number } {
    return { total: this.#pool.totalCount, idle: this.#pool.idleCount, waiting: this.#pool.waitingCount };
  }

  async query<Row extends object>(statement: Statement, values: readonly unknown[] = []): Promise<Row[]> {
    const result = await this.#pool.query<Row>({ name: statement.name, text: statement.text, values: values as unknown[] });
    return result.rows;
  }

  /**
   * Runs a maintenance command (VACUUM, ANALYZE) on a connection of its own: such commands
   * take no parameters and run outside any transaction.
   */
  async maintain(command: string): Promise<void> {
    await this.#pool.query(command);
  }

  /**
   * Runs `work` in one transaction (READ COMMITTED, the default) and commits it; rolls back and
   * rethrows when `work` throws or any statement fails. BEGIN travels with the first statements
   * and COMMIT with the last deferred ones: a transaction whose writes are deferred costs one
   * round trip for its reads and one for its writes and commit. A connection that failed
   * mid-transaction is destroyed, not reused.
   */
  async transaction<T>(work: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    const tx = new Transaction(client);
    let broken: Error | undefined;
    // A connection that drops while checked out (PostgreSQL restarting, the network cut) fails
    // the statements in flight and then emits 'error'; the pool listens only to idle ones, so
    // without this listener the error would be uncaught and end the process.
    const lost = (error: Error): void => {
      broken = error;
    };
    client.on('error', lost);
    try {
      tx.send('begin');
      const answer = await work(tx);
      // PostgreSQL runs the COMMIT after every statement sent before it; after a failed one, it
      // ends the transaction as a ROLLBACK instead, and settled() rejects with that failure.
      tx.send('commit');
      await tx.settled();
      return answer;
    } catch (error) {
      try {
        await tx.send('rollback');
      } catch (rollbackFailed) {
        broken = rollbackFailed instanceof Error ? rollbackFailed : new Error(String(rollbackFailed));
      }
      throw error;
    } finally {
      client.removeListener('error', lost);
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    this.#unscrape();
    await this.#pool.end();
  }
}

class Transaction implements SqlTransaction {
  declare readonly [inTransaction]: true;
  readonly #client: pg.PoolClient;
  /** Every statement sent: the transaction commits only once all of them succeeded. */
  #sent: Array<Promise<unknown>> = [];
  #corked = false;

  constructor(client: pg.PoolClient) {
    this.#client = client;
  }

  query<Row extends object>(statement: Statement, values: readonly unknown[] = []): Promise<Row[]> {
    return this.#track(this.#submit<Row>({ name: statement.name, text: statement.text, values: values as unknown[] }));
  }

  defer<Row extends object>(statement: Statement, values: readonly unknown[] = []): Promise<Row[]> {
    return this.query<Row>(statement, values);
  }

  /** A plain command (BEGIN, COMMIT, ROLLBACK). */
  send(command: string): Promise<unknown> {
    return this.#track(this.#submit({ text: command }));
  }

  /** Waits for every statement sent so far; rejects with the first failure. */
  async settled(): Promise<void> {
    const sent = this.#sent;
    this.#sent = [];
    await Promise.all(sent);
  }

  #track<R>(promise: Promise<R>): Promise<R> {
    // Handled here too: a statement whose answer nobody awaits (the transaction failed first)
    // must not surface as an unhandled rejection. Callers still see its failure.
    promise.catch(() => undefined);
    this.#sent.push(promise);
    return promise;
  }

  async #submit<Row extends object>(config: pg.QueryConfig): Promise<Row[]> {
    this.#cork();
    const result = await this.#client.query<Row>(config);
    return result.rows;
  }

  /**
   * Holds the socket's writes until this turn of the event loop ends (its promise continuations
   * included), so the statements issued in it leave in one write.
   */
  #cork(): void {
    if (this.#corked) return;
    const { stream } = this.#client.connection;
    stream.cork();
    this.#corked = true;
    setImmediate(() => {
      this.#corked = false;
      stream.uncork();
    });
  }
}
