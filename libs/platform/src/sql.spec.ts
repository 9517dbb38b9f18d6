import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { SqlPool, statement } from './sql.js';

/** Transactions over pipelined connections, against the real PostgreSQL test database. */
const pool = new SqlPool({
  url: process.env['DATABASE_URL']!,
  logger: createLogger('silent'),
  maxConnections: 2,
  connectTimeoutMs: 3_000,
  statementTimeoutMs: 5_000,
  applicationName: 'tally-sql-spec',
});

const CREATE = `create table if not exists platform_spec_sql (k text primary key, v int not null check (v >= 0))`;
const PUT = statement('platform_spec_put', `insert into platform_spec_sql (k, v) values ($1, $2)`);
const GET = statement('platform_spec_get', `select v from platform_spec_sql where k = $1`);
const BACKEND = statement('platform_spec_backend', `select pg_backend_pid() as pid`);
const TERMINATE = statement('platform_spec_terminate', `select pg_terminate_backend($1)`);
const ALIVE = statement('platform_spec_alive', `select count(*)::int as n from pg_stat_activity where pid = $1`);
let run = 0;
let key: (name: string) => string;

beforeAll(() => pool.maintain(CREATE));
beforeEach(() => {
  const prefix = `${process.pid}-${Date.now()}-${run++}`;
  key = (name) => `${prefix}-${name}`;
});
afterAll(() => pool.close());

async function value(k: string): Promise<number | undefined> {
  const [row] = await pool.query<{ v: number }>(GET, [k]);
  return row?.v;
}

describe('SqlPool transactions', () => {
  it('commit what they wrote, deferred statements included, and answer their rows afterwards', async () => {
    const read = await pool.transaction(async (tx) => {
      await tx.query(PUT, [key('a'), 1]);
      void tx.defer(PUT, [key('b'), 2]);
      return tx.defer<{ v: number }>(GET, [key('a')]);
    });
    expect(await read).toEqual([{ v: 1 }]);
    expect([await value(key('a')), await value(key('b'))]).toEqual([1, 2]);
  });

  it('commit nothing when a deferred statement fails, and fail with its error', async () => {
    const failing = pool.transaction(async (tx) => {
      await tx.query(PUT, [key('kept?'), 1]);
      void tx.defer(PUT, [key('bad'), -1]); // violates the check: fails with the COMMIT already sent behind it
      void tx.defer(PUT, [key('after'), 3]);
    });
    await expect(failing).rejects.toMatchObject({ code: '23514' });
    expect([await value(key('kept?')), await value(key('bad')), await value(key('after'))]).toEqual([undefined, undefined, undefined]);
  });

  it('roll back when the work throws, even with deferred statements in flight, and keep the connection usable', async () => {
    await expect(
      pool.transaction(async (tx) => {
        void tx.defer(PUT, [key('in flight'), 1]);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await value(key('in flight'))).toBeUndefined();
    // Both connections still work (the failed one was rolled back, not left mid-transaction).
    await Promise.all([pool.query(GET, [key('x')]), pool.query(GET, [key('y')])]);
  });

  it('fail, and leave the process standing, when the connection drops between statements', async () => {
    const dropped = pool.transaction(async (tx) => {
      await tx.query(PUT, [key('before the drop'), 1]);
      const [{ pid }] = (await tx.query<{ pid: number }>(BACKEND)) as [{ pid: number }];
      // The other connection ends this one's backend while no statement of it is in flight:
      // the connection reports the loss as an 'error' event, with nobody waiting on a query.
      await pool.query(TERMINATE, [pid]);
      while ((await pool.query<{ n: number }>(ALIVE, [pid]))[0]!.n > 0) await new Promise((resolve) => setTimeout(resolve, 10));
      await new Promise((resolve) => setTimeout(resolve, 50));
      await tx.query(GET, [key('before the drop')]);
    });
    await expect(dropped).rejects.toThrow();
    expect(await value(key('before the drop'))).toBeUndefined();
    // The dropped connection was discarded; the pool serves on fresh ones.
    await Promise.all([pool.query(GET, [key('x')]), pool.query(GET, [key('y')])]);
  });
});

describe('statements', () => {
  it('refuse one name for two texts', () => {
    expect(() => statement('platform_spec_put', 'select 1')).toThrow(/declared twice/);
    expect(statement('platform_spec_put', `insert into platform_spec_sql (k, v) values ($1, $2)`)).toEqual(PUT);
  });
});
