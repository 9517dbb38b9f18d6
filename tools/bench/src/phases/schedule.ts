import { nowMs } from '../latency.js';

/**
 * The open loop's clock: submit n is due at `startMs + n × intervalMs`, whatever happened to
 * the ones before. A timer ticks every millisecond and hands out everything that has fallen
 * due since the last tick, so a late tick sends a burst rather than fewer submits.
 */

const TICK_MS = 1;

export interface Schedule {
  readonly total: number;
  readonly intervalMs: number;
  readonly startMs: number;
  /** Beyond this many outstanding, a due submit is skipped (and counted), bounding the bench's memory. */
  readonly maxInFlight: number;
  inFlight(): number;
  send(n: number, dueMs: number): void;
  /** Called about once a second (e.g. to sample memory); a throw ends the schedule. */
  onSecond?(elapsedMs: number): void;
}

export interface ScheduleOutcome {
  readonly sent: number;
  readonly skipped: number;
}

/** The number of submits due `elapsedMs` into the schedule (submit 0 is due at once). */
export function dueBy(elapsedMs: number, intervalMs: number, total: number): number {
  return Math.min(total, Math.floor(elapsedMs / intervalMs) + 1);
}

export function runSchedule(s: Schedule): Promise<ScheduleOutcome> {
  let next = 0;
  let skipped = 0;
  let lastSecondMs = 0;
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      try {
        const elapsedMs = nowMs() - s.startMs;
        for (const due = dueBy(elapsedMs, s.intervalMs, s.total); next < due; next++) {
          if (s.inFlight() >= s.maxInFlight) skipped += 1;
          else s.send(next, s.startMs + next * s.intervalMs);
        }
        if (s.onSecond && elapsedMs - lastSecondMs >= 1_000) {
          lastSecondMs = elapsedMs;
          s.onSecond(elapsedMs);
        }
        if (next >= s.total) {
          clearInterval(timer);
          resolve({ sent: next - skipped, skipped });
        }
      } catch (error) {
        clearInterval(timer);
        reject(error);
      }
    }, TICK_MS);
  });
}
