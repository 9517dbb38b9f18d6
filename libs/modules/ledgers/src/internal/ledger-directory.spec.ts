import { randomUUID } from 'node:crypto';
import { ChannelHub, createLogger, createRedis, Database, EVERY_TENANT, PageTokens, type Redis, type Sql } from '@tally/platform';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createLedgersFacade, ledgersSchema, type LedgersFacade } from '../index.js';
import { recordingIntake } from './intake.testing.js';
import { LedgerDirectory } from './ledger-directory.js';

/**
 * What submits check of a ledger, cached per process, against the real PostgreSQL and Redis:
 * two facades stand for two API processes sharing the database.
 */
const logger = createLogger('warn');
const ANY = EVERY_TENANT;
const redisUrl = process.env['REDIS_URL']!;
let db: Database;

beforeAll(async () => {
  db = await Database.open({ url: process.env['DATABASE_URL']!, modules: [ledgersSchema], logger });
});
afterAll(() => db.close());

/** A connection closed when the test ends. */
async function connection(purpose: string): Promise<Redis> {
  const redis = createRedis(redisUrl, logger, purpose);
  await redis.connect();
  onTestFinished(() => redis.disconnect());
  return redis;
}

/** A process's ledgers facade, with its own subscriber and publisher, as an API process has. */
async function apiProcess(): Promise<{ ledgers: LedgersFacade<unknown>; subscriber: Redis }> {
  const [subscriber, publisher] = await Promise.all([connection('directory-spec-subscriber'), connection('directory-spec-publisher')]);
  const channels = new ChannelHub({ subscriber, logger });
  return { ledgers: createLedgersFacade({ db, logger, intake: recordingIntake(), invalidation: { channels, publisher }, pageTokens: new PageTokens('a test page token secret') }), subscriber };
}

/** Counts the statements a directory sends. */
function counting(): { sql: Sql; statements: () => number } {
  let n = 0;
  return {
    sql: { query: (statement, values) => (n++, db.sql.query(statement, values)) },
    statements: () => n,
  };
}

const debit = (ledgerId: string, currency: string) => ({ ledgerId, transactionId: `t-${randomUUID()}`, type: 'DEBIT' as const, amount: 5n, currency, metadata: {} });

describe('the ledger directory', () => {
  it('answers repeated lookups from memory, in one query for the ledgers it did not know', async () => {
    const { ledgers } = await apiProcess();
    const [a, b] = await Promise.all([1, 2].map(() => ledgers.createLedger({ name: 'cached', currencies: ['USD', 'EUR'], overdraftAllowed: true, requestId: '' }, ANY)));
    const counted = counting();
    const [subscriber, publisher] = await Promise.all([connection('directory-spec-subscriber'), connection('directory-spec-publisher')]);
    const directory = new LedgerDirectory({ sql: counted.sql, logger, invalidation: { channels: new ChannelHub({ subscriber, logger }), publisher } });
    const unknown = randomUUID();
    const first = await directory.facts([a!.id, b!.id, unknown, a!.id]);
    expect(counted.statements()).toBe(1);
    expect(first.get(a!.id)).toEqual({ tenant: null, overdraftAllowed: true, enabled: new Set(['USD', 'EUR']) });
    expect(first.has(unknown)).toBe(false);
    await directory.facts([a!.id, b!.id]);
    expect(counted.statements()).toBe(1);
    // An unknown ledger is never remembered: it may exist the next moment.
    await directory.facts([unknown]);
    expect(counted.statements()).toBe(2);
  });

  it('sees a currency disabled in another process within a round trip, and enabled again', async () => {
    const [one, two] = await Promise.all([apiProcess(), apiProcess()]);
    const ledger = await one.ledgers.createLedger({ name: 'shared', currencies: ['USD', 'EUR'], overdraftAllowed: false, requestId: '' }, ANY);
    expect((await two.ledgers.submitTransactions([debit(ledger.id, 'EUR')], ANY))[0]).toMatchObject({ ok: true }); // cached in `two`

    await one.ledgers.disableCurrency(ledger.id, 'EUR', ANY);
    expect((await one.ledgers.submitTransactions([debit(ledger.id, 'EUR')], ANY))[0]).toMatchObject({ ok: false }); // at once where it changed
    await expect
      .poll(async () => (await two.ledgers.submitTransactions([debit(ledger.id, 'EUR')], ANY))[0], { timeout: 2_000, interval: 20 })
      .toMatchObject({ ok: false, error: { details: { reason: 'CURRENCY_NOT_ENABLED' } } });

    await one.ledgers.enableCurrency(ledger.id, 'EUR', ANY);
    await expect.poll(async () => (await two.ledgers.submitTransactions([debit(ledger.id, 'EUR')], ANY))[0], { timeout: 2_000, interval: 20 }).toMatchObject({ ok: true });
  });

  it('forgets everything when its invalidations may have been lost (the subscription dropped)', async () => {
    const counted = counting();
    const subscriber = await connection('directory-spec-subscriber');
    const publisher = await connection('directory-spec-publisher');
    const channels = new ChannelHub({ subscriber, logger });
    const directory = new LedgerDirectory({ sql: counted.sql, logger, invalidation: { channels, publisher } });
    const { ledgers } = await apiProcess();
    const ledger = await ledgers.createLedger({ name: 'forgotten', currencies: ['USD'], overdraftAllowed: false, requestId: '' }, ANY);
    await directory.facts([ledger.id]);
    await directory.facts([ledger.id]);
    expect(counted.statements()).toBe(1);
    subscriber.disconnect(true); // ioredis reconnects, and the hub subscribes again
    await expect
      .poll(async () => {
        await directory.facts([ledger.id]);
        return counted.statements();
      }, { timeout: 5_000, interval: 50 })
      .toBeGreaterThan(1);
  });

  it('caches nothing without a way to hear of changes (a worker-only process, tools)', async () => {
    const counted = counting();
    const directory = new LedgerDirectory({ sql: counted.sql, logger });
    const { ledgers } = await apiProcess();
    const ledger = await ledgers.createLedger({ name: 'uncached', currencies: ['USD'], overdraftAllowed: false, requestId: '' }, ANY);
    await directory.facts([ledger.id]);
    await directory.facts([ledger.id]);
    expect(counted.statements()).toBe(2);
  });
});
