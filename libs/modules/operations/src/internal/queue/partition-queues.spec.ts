import { createLogger, createRedis, type Redis } from '@tally/platform';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PartitionQueues } from './partition-queues.js';

/**
 * Wake-ups in the real Redis, on partitions no worker serves (workers serve 0 to
 * TALLY_PARTITIONS - 1): what lands in a partition's queue, however often it is woken.
 */
const PARTITION = 901;
const OTHER = 902;
const logger = createLogger('silent');
const redisUrl = process.env['REDIS_URL']!;
let redis: Redis;

beforeAll(async () => {
  redis = createRedis(redisUrl, logger, 'queues-spec');
  await redis.connect();
});
afterAll(() => redis.disconnect());
beforeEach(async () => {
  for (const p of [PARTITION, OTHER]) await redis.del(`tally:partition-${p}:jobs`, `tally:partition-${p}:waiting`, `tally:partition-${p}:id`);
});

/** The jobs waiting in a partition's queue: when each was queued. */
async function queuedAt(partition: number): Promise<number[]> {
  const jobs = Object.values(await redis.hgetall(`tally:partition-${partition}:jobs`));
  return jobs.map((stored) => (JSON.parse(stored) as { data: { queuedAtMs: number } }).data.queuedAtMs).sort((a, b) => a - b);
}

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('waking partitions', () => {
  it('announces work on the long window where this process already woke a worker, on the short one elsewhere', async () => {
    const queues = new PartitionQueues(redisUrl, logger);
    try {
      queues.announce([PARTITION, OTHER], new Set([PARTITION]));
      await until(async () => (await queuedAt(PARTITION)).length === 1 && (await queuedAt(OTHER)).length === 1, 'the first jobs');
      // Announced again at once: the other partition's short window ends and queues one more;
      // the partition woken here stays within its long window.
      queues.announce([PARTITION, OTHER], new Set([PARTITION]));
      await until(async () => (await queuedAt(OTHER)).length === 2, 'the trailing job elsewhere');
      expect(await queuedAt(PARTITION)).toHaveLength(1);
    } finally {
      await queues.close();
    }
  });

  it('queues one job at once and one more, after every later call of the window, for all of them', async () => {
    const queues = new PartitionQueues(redisUrl, logger);
    try {
      queues.wake([PARTITION, OTHER], 200);
      let lastCallMs = 0;
      for (let i = 0; i < 5; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        lastCallMs = Date.now();
        queues.wake([PARTITION], 200);
      }
      await until(async () => (await queuedAt(PARTITION)).length === 2, 'the job that ends the window');
      const [first, trailing] = await queuedAt(PARTITION);
      // The trailing job was queued after the last call it covers: a drain that starts later
      // sees everything those calls committed.
      expect(trailing).toBeGreaterThanOrEqual(lastCallMs);
      expect(first).toBeLessThan(lastCallMs);
      expect(await queuedAt(OTHER)).toHaveLength(1); // woken once: one job
    } finally {
      await queues.close();
    }
  });

  it('queues a job now on demand (the sweep), whatever the window', async () => {
    const queues = new PartitionQueues(redisUrl, logger);
    try {
      queues.wake([PARTITION], 60_000);
      await until(async () => (await queuedAt(PARTITION)).length === 1, 'the first job');
      await queues.enqueue([PARTITION, PARTITION]);
      expect(await queuedAt(PARTITION)).toHaveLength(2);
    } finally {
      await queues.close();
    }
  });

  it('gives up on Redis that cannot take a job, and never throws at a waking caller (the sweep queues it later)', async () => {
    const queues = new PartitionQueues('redis://127.0.0.1:1', logger);
    try {
      for (let i = 0; i < 100; i++) expect(() => queues.wake([PARTITION], 1)).not.toThrow();
      await expect(queues.enqueue([PARTITION])).rejects.toThrow(/did not take the job/);
    } finally {
      await queues.close();
    }
  });
});
