import { runFaults, type InjectedFault } from './faults/inject.js';
import { ChaosLoad, createLedgers } from './load/clients.js';
import type { ChaosOptions } from './options.js';
import type { Stack } from './processes/stack.js';
import { countOperations, formatProgress, PROGRESS_EVERY_MS } from './progress.js';
import type { Random } from './random.js';
import type { RunSummary } from './report.js';
import { BooksReader } from './verify/read-back.js';
import { judge } from './verify/verdict.js';
import { violation, type Violation } from './verify/violation.js';

/**
 * One chaos run, start to verdict: the stack up, the ledgers made, the load on while the
 * faults come one after another, then the load stopped, everything running again, the
 * books left to settle, read back and checked, and Tally's own audit run.
 */
export interface RunContext {
  /** The run's seeded chance, forked here per concern in a fixed order. */
  readonly random: Random;
  /** Milliseconds since the run started. */
  readonly clock: () => number;
  readonly startedAt: Date;
}

export async function runChaos(options: ChaosOptions, stack: Stack, { random, clock, startedAt }: RunContext, say: (line: string) => void): Promise<RunSummary> {
  const setupRandom = random.fork();
  const loadRandom = random.fork();
  const faultRandom = random.fork();

  await stack.start(say);
  const ledgers = await createLedgers(stack.grpcAddress, options.ledgers, `chaos-${options.seed}`, setupRandom);
  say(`${ledgers.length} ledgers ready after ${(clock() / 1000).toFixed(1)} s; load and faults start`);

  const load = new ChaosLoad(stack.grpcAddress, ledgers, options.clients, options.ratePerS, loadRandom);
  const faults: InjectedFault[] = [];
  const loadStartMs = clock();
  load.start();
  const progress = setInterval(() => {
    void countOperations(stack.postgres.url).then((db) => {
      const counts = load.counts();
      const last = faults.at(-1);
      say(
        formatProgress({
          elapsedMs: clock(),
          acknowledged: counts.acknowledged,
          unanswered: [...counts.unansweredTries.values()].reduce((a, b) => a + b, 0),
          completed: db?.completed,
          inFlight: db?.inFlight,
          faults: faults.length,
          lastFault: last && `${last.kind} ${last.detail}`,
        }),
      );
    });
  }, PROGRESS_EVERY_MS);
  try {
    await runFaults(
      { kinds: options.faultKinds, faultsPerKind: options.faultsPerKind, untilMs: loadStartMs + options.durationS * 1_000, timing: options.timing },
      stack,
      faultRandom,
      clock,
      () => false,
      (fault) => {
        faults.push(fault);
        say(`fault ${faults.length} at ${(fault.atMs / 1000).toFixed(1)} s: ${fault.kind}, ${fault.detail} (${(fault.tookMs / 1000).toFixed(1)} s)`);
      },
    );
  } finally {
    await load.stop();
    clearInterval(progress);
  }
  const loadMs = clock() - loadStartMs;

  // Whatever an unplanned exit left down is started again before the books are read.
  for (const slot of ['api', 'worker'] as const) if (!stack.tally.isRunning(slot)) await stack.tally.start(slot);
  const reader = new BooksReader(stack.grpcAddress);
  try {
    const counts = load.counts();
    say(`load stopped after ${(loadMs / 1000).toFixed(1)} s: ${counts.acknowledged} acknowledged, ${faults.length} faults; settling`);
    const settle = await reader.settle(options.settlePatienceMs);
    say(settle.tookMs === undefined ? `not settled: ${settle.inFlight} still in flight` : `settled in ${(settle.tookMs / 1000).toFixed(1)} s; reading the books back`);
    const seen = await reader.readAll(ledgers);
    const verdict = judge(load.records, seen);
    say('running the audit (apps/server/dist/audit.js)');
    const audit = await stack.tally.audit();
    const auditPassed = audit.code === 0 && !/^FAIL/m.test(audit.output);
    const violations: Violation[] = [...verdict.violations];
    if (settle.tookMs === undefined) violations.push(violation('settle', `${settle.inFlight} operation(s) still PENDING or PROCESSING ${options.settlePatienceMs / 1000} s after the load stopped`));
    if (!auditPassed) violations.push(violation('audit', `the audit exited ${audit.code}: ${audit.output.trim().split('\n').filter((l) => !l.startsWith('ok')).join(' | ')}`));
    for (const exit of stack.tally.unplannedExits) {
      violations.push(
        violation(
          'crash',
          `Tally's ${exit.slot} process (${exit.role}, pid ${exit.pid}) exited on its own (${exit.how}) at ${(exit.atMs / 1000).toFixed(1)} s${exit.lastError ? `; its last error: ${exit.lastError}` : ''}`,
        ),
      );
    }
    return {
      options,
      startedAt,
      totalMs: clock(),
      loadMs,
      settleMs: settle.tookMs,
      load: counts,
      faults,
      tallyStarts: stack.tally.startsByRole,
      unplannedExits: stack.tally.unplannedExits,
      startFailures: stack.tally.startFailures,
      verdict,
      audit: { passed: auditPassed, code: audit.code, output: audit.output },
      violations,
    };
  } finally {
    reader.close();
  }
}
