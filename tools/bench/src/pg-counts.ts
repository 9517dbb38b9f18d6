import pg from 'pg';

/**
 * What Tally's database says happened: the bench counts accepted and completed operations in
 * `operations.operation` rather than trusting its own answers, so a submit that was answered
 * but never applied, or a worker that falls behind, shows in the figures. Only this run's
 * operations of one phase are counted: rows after the phase's watermark (`seq`, acceptance
 * order) whose transaction id carries the phase's prefix.
 */

/** Where a phase's operations start, and how to tell them from anyone else's. */
export interface PhaseMark {
  /** max(seq) before the phase's first submit. */
  readonly watermark: string;
  /** `bench-<run id>-<phase>-`: every transaction id of the phase starts with it. */
  readonly prefix: string;
}

/** Wall-clock milliseconds since the epoch, as PostgreSQL's `now()` reads the same clock. */
export interface TimeWindow {
  readonly startMs: number;
  readonly endMs: number;
}

export interface WindowCounts {
  /** Rows created within the window. */
  readonly accepted: number;
  /** Rows that reached COMPLETED within the window. */
  readonly completed: number;
}

export interface Outcome {
  readonly status: string;
  /** The failure reason (`error->>'code'`), or '' when the operation did not fail. */
  readonly reason: string;
  readonly count: number;
}

/** The PostgreSQL settings that change what the figures mean. */
export interface Durability {
  readonly fsync: string;
  readonly synchronousCommit: string;
  /** Off, nothing vacuums or analyzes the tables but what Tally runs itself (the work queue): long runs slow down. */
  readonly autovacuum: string;
  readonly serverVersion: string;
}

/** How the settings read in a line: `fsync=on, synchronous_commit=on, autovacuum=on`. */
export function settingsLine(d: Durability): string {
  return `fsync=${d.fsync}, synchronous_commit=${d.synchronousCommit}, autovacuum=${d.autovacuum}`;
}

const PHASE_ROWS = `from operations.operation where seq > $1 and starts_with(transaction_id, $2)`;

export class OperationCounts {
  readonly #pool: pg.Pool;

  constructor(databaseUrl: string) {
    // Two connections: a count and a drain poll may overlap; more would only load PostgreSQL.
    this.#pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    this.#pool.on('error', () => undefined); // An idle client's error surfaces on the next query.
  }

  /** Fails clearly unless the database is reachable and is Tally's. */
  async check(): Promise<void> {
    const { rows } = await this.#pool.query<{ found: string | null }>(`select to_regclass('operations.operation')::text as found`);
    if (rows[0]?.found == null) {
      throw new Error('the database has no operations.operation table: is --database-url the database Tally serves?');
    }
  }

  async mark(prefix: string): Promise<PhaseMark> {
    const { rows } = await this.#pool.query<{ seq: string }>(`select coalesce(max(seq), 0)::text as seq from operations.operation`);
    return { watermark: rows[0]!.seq, prefix };
  }

  async windowCounts(mark: PhaseMark, window: TimeWindow): Promise<WindowCounts> {
    // The bounds are whole milliseconds: the start rounded down, the end up, so that nothing
    // created or completed inside the window falls out of it.
    const { rows } = await this.#pool.query<{ accepted: number; completed: number }>(
      `select count(*) filter (where create_time >= $3 and create_time <= $4)::int as accepted,
              count(*) filter (where status = 'COMPLETED' and update_time >= $3 and update_time <= $4)::int as completed
         ${PHASE_ROWS}`,
      [mark.watermark, mark.prefix, new Date(Math.floor(window.startMs)), new Date(Math.ceil(window.endMs))],
    );
    return rows[0]!;
  }

  /** The phase's operations not yet terminal (PENDING or PROCESSING). */
  async inFlight(mark: PhaseMark): Promise<number> {
    const { rows } = await this.#pool.query<{ n: number }>(`select count(*)::int as n ${PHASE_ROWS} and status in ('PENDING', 'PROCESSING')`, [
      mark.watermark,
      mark.prefix,
    ]);
    return rows[0]!.n;
  }

  /** The phase's operations by final status and failure reason. */
  async outcomes(mark: PhaseMark): Promise<Outcome[]> {
    const { rows } = await this.#pool.query<Outcome>(
      `select status, coalesce(error->>'code', '') as reason, count(*)::int as count ${PHASE_ROWS} group by 1, 2 order by 3 desc`,
      [mark.watermark, mark.prefix],
    );
    return rows;
  }

  async durability(): Promise<Durability> {
    const show = async (name: string): Promise<string> => {
      const { rows } = await this.#pool.query<Record<string, string>>(`show ${name}`);
      return Object.values(rows[0]!)[0]!;
    };
    return {
      fsync: await show('fsync'),
      synchronousCommit: await show('synchronous_commit'),
      autovacuum: await show('autovacuum'),
      serverVersion: await show('server_version'),
    };
  }

  close(): Promise<void> {
    return this.#pool.end();
  }
}
