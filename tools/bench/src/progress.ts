/**
 * A progress line on stderr while a phase runs, so a long run is never silent: rewritten in
 * place every second on a terminal, a plain line every few seconds in a log (CI, a pipe).
 * stdout stays for the final table.
 */

export const PROGRESS_TICK_MS = 1_000;
/** Without a terminal, one line per this many ticks: enough to follow, not enough to flood. */
export const PLAIN_LINE_EVERY_TICKS = 5;

export interface ProgressReading {
  /** What the phase counts (requests, ledgers, streams), so far. */
  readonly done: number;
  readonly errors: number;
  /** Anything else worth a glance: what is left, what is open. */
  readonly note?: string;
}

export interface ProgressSnapshot extends ProgressReading {
  readonly phase: string;
  readonly elapsedMs: number;
  /** Undefined for a phase without a fixed length (a drain, a setup). */
  readonly totalMs: number | undefined;
  readonly ratePerS: number;
  readonly unit: string;
}

export function formatProgress(s: ProgressSnapshot): string {
  const elapsed = (s.elapsedMs / 1000).toFixed(0);
  const time = s.totalMs === undefined ? `${elapsed} s` : `${elapsed}/${(s.totalMs / 1000).toFixed(0)} s`;
  const parts = [
    s.phase.padEnd(12),
    time.padStart(8),
    `${formatCount(s.done)} ${s.unit}`,
    `${formatCount(s.ratePerS)}/s`,
    `${formatCount(s.errors)} errors`,
  ];
  if (s.note) parts.push(s.note);
  return parts.join('  ');
}

export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

interface Output {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface ProgressLine {
  end(): void;
}

export class Progress {
  #active: { line: string } | undefined;

  constructor(private readonly out: Output = process.stderr) {}

  begin(phase: string, totalMs: number | undefined, read: () => ProgressReading, unit = 'requests'): ProgressLine {
    const startMs = Date.now();
    let lastDone = 0;
    let ticks = 0;
    const state = { line: '' };
    this.#active = state;
    const snapshot = (): string => {
      const reading = read();
      const line = formatProgress({ ...reading, phase, unit, totalMs, elapsedMs: Date.now() - startMs, ratePerS: ((reading.done - lastDone) * 1000) / PROGRESS_TICK_MS });
      lastDone = reading.done;
      return line;
    };
    const timer = setInterval(() => {
      ticks += 1;
      state.line = snapshot();
      if (this.out.isTTY) this.out.write(`\r${state.line}\x1b[K`);
      else if (ticks % PLAIN_LINE_EVERY_TICKS === 0) this.out.write(`${state.line}\n`);
    }, PROGRESS_TICK_MS);
    timer.unref();
    return {
      end: () => {
        clearInterval(timer);
        if (this.#active === state) this.#active = undefined;
        if (this.out.isTTY && ticks > 0) this.out.write('\r\x1b[K');
      },
    };
  }

  /** A line of its own (a phase's summary, a warning), below any progress line. */
  say(text: string): void {
    if (this.out.isTTY && this.#active) this.out.write('\r\x1b[K');
    this.out.write(`${text}\n`);
  }
}
