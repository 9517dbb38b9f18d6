import { scraped, statement, type Sql } from '@tally/platform';

/**
 * The work queue as Prometheus sees it (tally_queue_depth, tally_queue_oldest_age_seconds):
 * per partition, how many operations wait or are in hand, and how old the oldest is. One
 * statement on the queue's primary key (partition, seq) and one index probe per partition;
 * read at most once a second, whoever scrapes. Left out of a scrape when PostgreSQL cannot answer.
 */

/** How long one reading serves scrapes (both gauges read it, and several Prometheus may scrape). */
const QUEUE_STATS_TTL_MS = 1_000;

const QUEUE_STATS = statement(
  'operations_queue_stats',
  `with depth as (select partition, count(*)::int as n, min(seq) as first_seq from operations.queue group by partition)
   select d.partition, d.n, coalesce(extract(epoch from clock_timestamp() - o.create_time), 0)::float8 as oldest_age_s
     from depth d left join operations.operation o on o.seq = d.first_seq`,
);

interface PartitionStats {
  readonly partition: number;
  readonly depth: number;
  readonly oldestAgeS: number;
}

/** Registers the queue's gauges, every partition reported (0 when empty); returns what unregisters them. */
export function exportQueueStats(sql: Sql, partitions: number): () => void {
  let reading: { atMs: number; stats: Promise<PartitionStats[]> } | undefined;
  const read = (): Promise<PartitionStats[]> => {
    if (reading === undefined || Date.now() - reading.atMs > QUEUE_STATS_TTL_MS) {
      const stats = sql.query<{ partition: number; n: number; oldest_age_s: number }>(QUEUE_STATS, []).then((rows) => {
        const byPartition = new Map(rows.map((r) => [r.partition, r]));
        return Array.from({ length: partitions }, (_, partition) => {
          const row = byPartition.get(partition);
          return { partition, depth: row?.n ?? 0, oldestAgeS: Math.max(0, row?.oldest_age_s ?? 0) };
        });
      });
      // A failed reading is not kept: the next scrape asks again.
      stats.catch(() => {
        if (reading?.stats === stats) reading = undefined;
      });
      reading = { atMs: Date.now(), stats };
    }
    return reading.stats;
  };
  // While PostgreSQL is away the two gauges are left out, and every other metric still answers.
  const readOrNone = (): Promise<PartitionStats[]> => read().catch(() => []);
  const stops = [
    scraped.queueDepth.onScrape(async () => (await readOrNone()).map((p) => [{ partition: String(p.partition) }, p.depth])),
    scraped.queueOldestAge.onScrape(async () => (await readOrNone()).map((p) => [{ partition: String(p.partition) }, p.oldestAgeS])),
  ];
  return () => stops.forEach((stop) => stop());
}
