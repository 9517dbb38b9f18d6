#!/usr/bin/env node
/**
 * `npm run bench`: measures a running Tally against the brief's targets (see ../README.md).
 * Progress and phase summaries go to stderr; the table of figures goes to stdout; --json
 * writes every figure with the run's circumstances. Exit 0, 1 (audit failed, unexpected
 * errors, run cut short) or 2 (bad options).
 */
import { figuresOf } from './figures.js';
import { gitCommit, machineFacts } from './machine.js';
import { parseCommandLine, USAGE } from './options.js';
import { settingsLine } from './pg-counts.js';
import { Progress } from './progress.js';
import { figuresJson, formatTable, writeJson } from './report.js';
import { runPhases } from './run.js';
import { findListeningPid } from './server-process.js';
import { startTally, type StartedTally } from './tally-start.js';
import { problemsOf } from './verdict.js';
import { newRunId } from './workload.js';

const parsed = parseCommandLine(process.argv.slice(2));
if (parsed.kind === 'help') {
  console.log(USAGE);
  process.exit(0);
}
if (parsed.kind === 'invalid') {
  for (const problem of parsed.problems) console.error(`npm run bench: ${problem}`);
  console.error('npm run bench -- --help lists the options');
  process.exit(2);
}
const options = parsed.options;

const progress = new Progress();
const runId = newRunId();
const startedAt = new Date();
// Read before the run: the code that is measured is the code as it was when the run began.
const commit = gitCommit();
let started: StartedTally | undefined;
process.once('SIGINT', () => {
  progress.say('interrupted');
  void (started?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
});

let exitCode = 1;
try {
  if (options.start) {
    if (portTaken(options.grpcPort)) throw new Error(`--start: something already listens on port ${options.grpcPort}; run without --start to measure it`);
    started = await startTally(
      { DATABASE_URL: options.databaseUrl, TALLY_GRPC_PORT: String(options.grpcPort), TALLY_HTTP_PORT: String(options.httpPort) },
      options.httpPort,
      progress,
    );
  }
  const record = await runPhases(options, runId, progress);
  const { results } = record;
  const problems = problemsOf(results, options.mixed);
  if (record.fatal) problems.unshift(`the run stopped early: ${record.fatal.message}`);
  const figures = figuresOf(results);
  const baselineTps = results.baseline?.tps;
  const audit = results.audit ? (results.audit.passed ? 'passed' : `FAILED (exit ${results.audit.exitCode})`) : 'not run';
  const durability = record.durability;
  console.log(formatTable(figures, baselineTps, [['PostgreSQL settings', durability ? settingsLine(durability) : 'unknown'], ['audit', audit]]));
  for (const problem of problems) progress.say(`PROBLEM: ${problem}`);
  exitCode = problems.length > 0 ? 1 : 0;
  if (options.jsonPath) {
    writeJson(options.jsonPath, {
      runId,
      startedAt: startedAt.toISOString(),
      endedAt: new Date().toISOString(),
      gitCommit: commit,
      machine: machineFacts(),
      postgres: record.durability ?? null,
      serverPid: record.serverPid ?? null,
      options: { ...options, phases: [...options.phases] },
      ...figuresJson(figures, baselineTps),
      results,
      audit: results.audit ?? null,
      problems,
      exitCode,
    });
    progress.say(`figures written to ${options.jsonPath}`);
  }
} catch (error) {
  progress.say(`npm run bench: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  await started?.stop();
}
process.exit(exitCode);

function portTaken(port: number): boolean {
  try {
    findListeningPid(port);
    return true;
  } catch {
    return false;
  }
}
