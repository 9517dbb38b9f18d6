import { measureBaseline, runBaselineScript } from './baseline.js';
import { GrpcConnections } from './grpc-clients.js';
import type { BenchOptions } from './options.js';
import { runAudit } from './phases/audit.js';
import { getBalances } from './phases/balances.js';
import type { RunContext } from './phases/context.js';
import { openLoop } from './phases/open-loop.js';
import { setUpLedgers } from './phases/setup.js';
import { soak } from './phases/soak.js';
import { batchedSubmits, singleSubmits } from './phases/submits.js';
import { watches } from './phases/watches.js';
import { OperationCounts, settingsLine, type Durability } from './pg-counts.js';
import type { Progress } from './progress.js';
import type { RunResults } from './results.js';
import { findListeningPid, MB, ServerProcess } from './server-process.js';
import { balancesLine, openLine, submitLine, watchesLine } from './summary-lines.js';

/**
 * The run, phase after phase, against a Tally that is already up. Whatever was measured before
 * a failure is kept: the caller still reports it.
 */
export interface RunRecord {
  readonly results: RunResults;
  readonly serverPid?: number;
  readonly durability?: Durability;
  /** Why the run stopped early, if it did. */
  readonly fatal?: Error;
}

export async function runPhases(options: BenchOptions, runId: string, progress: Progress): Promise<RunRecord> {
  const record: { results: RunResults; serverPid?: number; durability?: Durability; fatal?: Error } = { results: {} };
  const { results } = record;
  const grpc = new GrpcConnections(`${options.grpcHost}:${options.grpcPort}`, options.connections);
  const counts = new OperationCounts(options.databaseUrl);
  let server: ServerProcess | undefined;
  const phases = options.phases;
  try {
    await counts.check();
    const durability = await counts.durability();
    record.durability = durability;
    progress.say(`PostgreSQL ${durability.serverVersion}: ${settingsLine(durability)}`);
    if (durability.fsync !== 'on' || durability.synchronousCommit === 'off') {
      progress.say('WARNING: PostgreSQL is NOT durable (fsync or synchronous_commit is off): the targets assume fsync on; these figures flatter the server');
    }
    if (durability.autovacuum !== 'on') {
      progress.say('note: autovacuum is off: tables are neither vacuumed nor analyzed during the run (Tally vacuums only its work queue)');
    }
    // The baseline and the audit alone need no server; the load phases need it answering.
    if (phases.has('setup')) {
      await grpc.ready();
      server = new ServerProcess(options.pid ?? findListeningPid(options.grpcPort));
      record.serverPid = server.pid;
      server.startSampling();
      results.rss = { peakMb: 0, atPhaseEndMb: {} };
      progress.say(`run ${runId}: Tally at ${grpc.address}, pid ${server.pid}, RSS ${(server.rssBytes() / MB).toFixed(1)} MB`);
    }

    if (phases.has('baseline')) {
      results.baseline = options.baselineScript
        ? await runBaselineScript(options.baselineScript, options.databaseUrl, options.baselineSeconds, options.ledgers, progress)
        : await measureBaseline(options.databaseUrl, options.baselineSeconds, options.ledgers, progress);
      progress.say(`baseline: ${results.baseline.tps.toFixed(0)} tps (${results.baseline.source})`);
    }
    if (server) {
      const running = server;
      const ctx: RunContext = { options, runId, grpc, counts, server: running, progress };
      await loadPhases(ctx, results, (phase) => {
        results.rss!.atPhaseEndMb[phase] = running.rssBytes() / MB;
        if (running.gone) throw running.gone;
      });
    }
  } catch (error) {
    record.fatal = error instanceof Error ? error : new Error(String(error));
  } finally {
    server?.stopSampling();
    if (server && results.rss) results.rss.peakMb = server.peakBytes / MB;
    grpc.close();
    await counts.close();
  }
  if (phases.has('audit') && record.fatal === undefined) {
    try {
      results.audit = await runAudit(options.databaseUrl, progress);
    } catch (error) {
      record.fatal = error instanceof Error ? error : new Error(String(error));
    }
  }
  return record;
}

/** Setup, then every load phase selected, each recording its results and the memory at its end. */
async function loadPhases(ctx: RunContext, results: RunResults, ended: (phase: string) => void): Promise<void> {
  const { options, progress } = ctx;
  const { phases } = options;
  const { ledgerIds, elapsedMs } = await setUpLedgers(ctx);
  results.setup = { elapsedMs };
  progress.say(`setup: ${ledgerIds.length} ledgers with an opening credit each in ${(elapsedMs / 1000).toFixed(1)} s`);
  ended('setup');

  const { plan } = options;
  if (phases.has('single')) {
    results.single8 = await singleSubmits(ctx, ledgerIds, 8, plan.single8Ms);
    progress.say(submitLine(results.single8));
    ended('single8');
    results.single64 = await singleSubmits(ctx, ledgerIds, 64, plan.single64Ms);
    progress.say(submitLine(results.single64));
    ended('single64');
  }
  if (phases.has('batched')) {
    results.batched = await batchedSubmits(ctx, ledgerIds, plan.batchedMs);
    progress.say(submitLine(results.batched));
    ended('batched');
  }
  // Half of the best sustained completed/s of the single submits.
  const peak = Math.max(results.single8?.completedPerS ?? 0, results.single64?.completedPerS ?? 0);
  const openRatePerS = options.openRatePerS ?? peak / 2;
  const needsRate = phases.has('open') || options.soakSeconds > 0;
  if (needsRate && !(openRatePerS >= 1)) throw new Error(`no open-loop rate: the single submits completed ${peak.toFixed(1)}/s; give --open-rate`);
  if (phases.has('open')) {
    results.open = await openLoop(ctx, ledgerIds, { phase: 'open', ratePerS: openRatePerS, durationMs: plan.openMs });
    progress.say(openLine(results.open));
    ended('open');
  }
  if (phases.has('balances')) {
    results.balances = await getBalances(ctx, ledgerIds, plan.balancesMs);
    progress.say(balancesLine(results.balances));
    ended('balances');
  }
  if (phases.has('watches')) {
    results.watches = await watches(ctx, ledgerIds, plan.watches, plan.watchSettleMs);
    progress.say(watchesLine(results.watches));
    ended('watches');
  }
  if (options.soakSeconds > 0) {
    results.soak = await soak(ctx, ledgerIds, openRatePerS, options.soakSeconds);
    progress.say(openLine(results.soak.load));
    ended('soak');
  }
}
