import type { FaultTiming, MsRange } from '../options.js';
import { sleep } from '../processes/child.js';
import type { Stack } from '../processes/stack.js';
import type { Random } from '../random.js';
import { FaultSchedule, type FaultKind } from './schedule.js';

/**
 * The faults themselves, one at a time, each on the run's own processes only, each ending
 * with what it broke running again (restarted, continued, switched back on).
 */

export interface InjectedFault {
  readonly kind: FaultKind;
  /** When it began, in ms since the run's start. */
  readonly atMs: number;
  /** From the first signal to everything running again. */
  readonly tookMs: number;
  readonly detail: string;
}

/** Of PostgreSQL restarts, the share that are a crash (-m immediate); the rest are -m fast. */
const IMMEDIATE_SHARE = 0.75;

export const drawMs = (range: MsRange, random: Random): number => random.int(range.min, range.max);

export async function injectFault(kind: FaultKind, stack: Stack, timing: FaultTiming, random: Random): Promise<string> {
  const { tally, redis, postgres, rates } = stack;
  switch (kind) {
    case 'kill-api': {
      const role = tally.apiRole;
      const deadMs = drawMs(timing.deadMs, random);
      await tally.kill('api');
      await sleep(deadMs);
      await tally.startApi();
      return `killed ${role}, down ${deadMs} ms, back as ${tally.apiRole}`;
    }
    case 'kill-worker': {
      const deadMs = drawMs(timing.deadMs, random);
      await tally.kill('worker');
      await sleep(deadMs);
      await tally.startWorker();
      return `down ${deadMs} ms`;
    }
    case 'kill-both': {
      const role = tally.apiRole;
      const deadMs = drawMs(timing.deadMs, random);
      await Promise.all([tally.kill('api'), tally.kill('worker')]);
      await sleep(deadMs);
      await Promise.all([tally.startApi(), tally.startWorker()]);
      return `killed ${role} and worker, down ${deadMs} ms, back as ${tally.apiRole} and worker`;
    }
    case 'redis-restart': {
      const deadMs = drawMs(timing.deadMs, random);
      await redis.kill();
      await sleep(deadMs);
      await redis.start();
      return `down ${deadMs} ms, back empty`;
    }
    case 'postgres-restart': {
      const mode = random.chance(IMMEDIATE_SHARE) ? 'immediate' : 'fast';
      await postgres.restart(mode);
      return `-m ${mode}`;
    }
    case 'redis-freeze': {
      const frozenMs = drawMs(timing.freezeMs, random);
      await redis.freezeFor(frozenMs);
      return `stopped ${frozenMs} ms`;
    }
    case 'provider-cut': {
      const cutMs = drawMs(timing.cutMs, random);
      await rates.setOutage(true);
      try {
        await sleep(cutMs);
      } finally {
        await rates.setOutage(false);
      }
      return `outage ${cutMs} ms`;
    }
  }
}

export interface FaultPlan {
  readonly kinds: readonly FaultKind[];
  readonly faultsPerKind: number;
  /** The faults go on at least this long (ms since the run's start). */
  readonly untilMs: number;
  readonly timing: FaultTiming;
}

/**
 * Injects faults one after another, a gap between two, until every kind reached its count and
 * the time is up (or until `stopped` says so). With a count of 0, injects none.
 */
export async function runFaults(
  plan: FaultPlan,
  stack: Stack,
  random: Random,
  clock: () => number,
  stopped: () => boolean,
  onFault: (fault: InjectedFault) => void,
): Promise<void> {
  if (plan.faultsPerKind === 0 || plan.kinds.length === 0) {
    while (!stopped() && clock() < plan.untilMs) await sleep(200);
    return;
  }
  const schedule = new FaultSchedule(random, plan.kinds);
  while (!stopped() && !(schedule.reached(plan.faultsPerKind) && clock() >= plan.untilMs)) {
    await sleep(drawMs(plan.timing.gapMs, random));
    if (stopped()) return;
    const kind = schedule.next();
    const atMs = clock();
    const detail = await injectFault(kind, stack, plan.timing, random);
    onFault({ kind, atMs, tookMs: clock() - atMs, detail });
  }
}
