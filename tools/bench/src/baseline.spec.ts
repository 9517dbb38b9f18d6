import { describe, expect, it } from 'vitest';
import { libpqEnv, parseBaselineTps, parsePgbenchTps } from './baseline.js';

describe('the baseline', () => {
  it("reads pgbench's tps from its summary", () => {
    const summary = [
      'number of clients: 8',
      'number of transactions actually processed: 30512',
      'latency average = 5.240 ms',
      'initial connection time = 12.345 ms',
      'tps = 1526.612345 (without initial connection time)',
    ].join('\n');
    expect(parsePgbenchTps(summary)).toBe(1526.612345);
    expect(parsePgbenchTps('progress: 1.0 s, 1500.0 tps, lat 5.1 ms stddev 2.0, 0 failed')).toBeUndefined();
  });

  it("reads an external script's last baseline_tps line", () => {
    expect(parseBaselineTps('tps = 1400.5 (without initial connection time)\nbaseline_tps=1400\n')).toBe(1400);
    expect(parseBaselineTps('baseline_tps=1\nbaseline_tps=1532.7')).toBe(1532.7);
    expect(parseBaselineTps('baseline_tps=\n')).toBeUndefined();
  });

  it('gives pgbench the server of the database URL', () => {
    expect(libpqEnv('postgres://postgres@127.0.0.1:5432/tally')).toEqual({ PGHOST: '127.0.0.1', PGPORT: '5432', PGUSER: 'postgres' });
    expect(libpqEnv('postgresql://bench:s%40cret@[::1]:6543/x')).toEqual({ PGHOST: '::1', PGPORT: '6543', PGUSER: 'bench', PGPASSWORD: 's@cret' });
    expect(libpqEnv('postgres://db.internal/x')).toEqual({ PGHOST: 'db.internal', PGPORT: '5432', PGUSER: 'postgres' });
  });
});
