import { nowMs } from '../latency.js';
import type { TimeWindow } from '../pg-counts.js';
import type { ServerProcess } from '../server-process.js';

/**
 * A phase's wall-clock window (to count its operations in PostgreSQL) and the CPU that the
 * bench and the server used meanwhile, in percent of one core: a load generator near 100% is
 * measuring itself, not the server.
 */
export interface PhaseTiming {
  readonly window: TimeWindow;
  readonly elapsedMs: number;
  readonly benchCpuPct: number;
  readonly serverCpuPct: number;
}

export function startPhaseClock(server: ServerProcess): { stop(): PhaseTiming } {
  const startMs = Date.now();
  const start = nowMs();
  const benchCpu = process.cpuUsage();
  const serverCpuMs = server.cpuMs();
  return {
    stop() {
      const elapsedMs = nowMs() - start;
      const bench = process.cpuUsage(benchCpu);
      return {
        window: { startMs, endMs: Date.now() },
        elapsedMs,
        benchCpuPct: ((bench.user + bench.system) / 1000 / elapsedMs) * 100,
        serverCpuPct: ((server.cpuMs() - serverCpuMs) / elapsedMs) * 100,
      };
    },
  };
}
