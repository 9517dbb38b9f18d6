import { describe, expect, it } from 'vitest';
import { metricsRegistry, scrapedGauge } from './metrics.js';

/** The value a scrape reports for `name{labels}`. */
async function scrape(name: string, labels = ''): Promise<string | undefined> {
  const text = await metricsRegistry.metrics();
  return text.split('\n').find((line) => line.startsWith(`${name}${labels} `))?.split(' ')[1];
}

describe('gauges read at scrape time', () => {
  it('sum their sources (two pools), and forget a source once it is removed', async () => {
    const gauge = scrapedGauge('test_pool_connections', 'test', ['state']);
    const first = gauge.onScrape(() => [[{ state: 'idle' }, 2]]);
    gauge.onScrape(async () => [[{ state: 'idle' }, 3]]);
    expect(await scrape('test_pool_connections', '{state="idle"}')).toBe('5');
    first();
    expect(await scrape('test_pool_connections', '{state="idle"}')).toBe('3');
  });

  it('keep the largest of sources that read one shared fact (the queue in PostgreSQL)', async () => {
    const gauge = scrapedGauge('test_queue_depth', 'test', ['partition'], 'max');
    gauge.onScrape(() => [[{ partition: '0' }, 7]]);
    gauge.onScrape(() => [[{ partition: '0' }, 4], [{ partition: '1' }, 1]]);
    expect(await scrape('test_queue_depth', '{partition="0"}')).toBe('7');
    expect(await scrape('test_queue_depth', '{partition="1"}')).toBe('1');
  });

  it('report nothing stale: a label set no source answers any more is gone', async () => {
    const gauge = scrapedGauge('test_held', 'test', ['partition']);
    let held = [0, 1];
    gauge.onScrape(() => held.map((p) => [{ partition: String(p) }, 1]));
    expect(await scrape('test_held', '{partition="1"}')).toBe('1');
    held = [0];
    expect(await scrape('test_held', '{partition="1"}')).toBeUndefined();
  });
});
