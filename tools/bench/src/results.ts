import type { Baseline } from './baseline.js';
import type { AuditResult } from './phases/audit.js';
import type { BalancesResult } from './phases/balances.js';
import type { SubmitPhaseResult } from './phases/measure.js';
import type { OpenLoopResult } from './phases/open-loop.js';
import type { Setup } from './phases/setup.js';
import type { SoakResult } from './phases/soak.js';
import type { WatchesResult } from './phases/watches.js';

/** Everything a run measured, phase by phase; a phase that did not run is absent. */
export interface RunResults {
  baseline?: Baseline;
  setup?: Omit<Setup, 'ledgerIds'>;
  single8?: SubmitPhaseResult;
  single64?: SubmitPhaseResult;
  batched?: SubmitPhaseResult;
  open?: OpenLoopResult;
  balances?: BalancesResult;
  watches?: WatchesResult;
  soak?: SoakResult;
  /** The server's memory: the peak over the whole run (sampled every 250 ms) and at each phase's end. */
  rss?: { peakMb: number; atPhaseEndMb: Record<string, number> };
  audit?: AuditResult;
}
