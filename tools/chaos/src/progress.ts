import pg from 'pg';

/**
 * A progress line on stderr every few seconds, so a run of many minutes is never silent:
 * elapsed time, what the clients got acknowledged, what Tally completed (counted in the run's
 * own PostgreSQL, `?` while it is down), and the faults so far. stdout stays for the report.
 */

export const PROGRESS_EVERY_MS = 5_000;
const COUNT_TIMEOUT_MS = 1_500;

export interface ProgressReading {
  readonly elapsedMs: number;
  readonly acknowledged: number;
  readonly unanswered: number;
  /** Undefined when the database could not be read. */
  readonly completed: number | undefined;
  readonly inFlight: number | undefined;
  readonly faults: number;
  readonly lastFault: string | undefined;
}

export function formatProgress(r: ProgressReading): string {
  const n = (x: number | undefined) => (x === undefined ? '?' : x.toLocaleString('en-US'));
  const parts = [
    `chaos ${`${Math.round(r.elapsedMs / 1000)} s`.padStart(6)}`,
    `accepted ${n(r.acknowledged)}`,
    `completed ${n(r.completed)}`,
    `in flight ${n(r.inFlight)}`,
    `unanswered tries ${n(r.unanswered)}`,
    `faults ${r.faults}`,
  ];
  if (r.lastFault) parts.push(`(last: ${r.lastFault})`);
  return parts.join('  ');
}

/** Operations by status, straight from the database; undefined when it does not answer quickly. */
export async function countOperations(databaseUrl: string): Promise<{ completed: number; inFlight: number } | undefined> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: COUNT_TIMEOUT_MS, statement_timeout: COUNT_TIMEOUT_MS });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ status: string; n: string }>(`select status, count(*)::text as n from operations.operation group by status`);
    const of = (status: string) => Number(rows.find((r) => r.status === status)?.n ?? 0);
    return { completed: of('COMPLETED'), inFlight: of('PENDING') + of('PROCESSING') };
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}
