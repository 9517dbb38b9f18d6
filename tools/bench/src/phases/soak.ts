import { MB } from '../server-process.js';
import type { RunContext } from './context.js';
import { openLoop, type OpenLoopResult } from './open-loop.js';

/**
 * The soak: the open loop at half of peak for a long time, watching whether the server's
 * memory settles or keeps growing. Growth is measured from the end of the first minute
 * (start-up and warm-up allocations are not a leak) to the end, and scaled to 10 minutes.
 */

export const SOAK_RSS_INTERVAL_MS = 5_000;
/** Memory is compared from this point on (or from half-way, for a soak shorter than 2 minutes). */
export const SOAK_WARM_UP_MS = 60_000;

export interface SoakResult {
  readonly load: OpenLoopResult;
  readonly rssAfterWarmUpMb: number;
  readonly rssEndMb: number;
  readonly growthMb: number;
  readonly growthMbPer10Min: number;
  /** Every sample, [seconds into the soak, MB]: one per SOAK_RSS_INTERVAL_MS. */
  readonly samples: ReadonlyArray<readonly [number, number]>;
}

export async function soak(ctx: RunContext, ledgerIds: readonly string[], ratePerS: number, seconds: number): Promise<SoakResult> {
  const durationMs = seconds * 1000;
  const warmUpMs = Math.min(SOAK_WARM_UP_MS, durationMs / 2);
  const samples: Array<[number, number]> = [];
  let warmUp: [number, number] | undefined;
  let nextSampleMs = 0;
  const load = await openLoop(ctx, ledgerIds, {
    phase: 'soak',
    ratePerS,
    durationMs,
    onSecond: (elapsedMs) => {
      if (elapsedMs < nextSampleMs) return;
      nextSampleMs += SOAK_RSS_INTERVAL_MS;
      const sample: [number, number] = [Math.round(elapsedMs / 1000), ctx.server.rssBytes() / MB];
      samples.push(sample);
      if (warmUp === undefined && elapsedMs >= warmUpMs) warmUp = sample;
    },
  });
  const end: [number, number] = [Math.round(durationMs / 1000), ctx.server.rssBytes() / MB];
  samples.push(end);
  const from = warmUp ?? samples[0]!;
  const growthMb = end[1] - from[1];
  const spanS = Math.max(end[0] - from[0], 1);
  return { load, rssAfterWarmUpMb: from[1], rssEndMb: end[1], growthMb, growthMbPer10Min: (growthMb * 600) / spanS, samples };
}
