#!/usr/bin/env node
/**
 * `npm run chaos`: Tally under load while everything it runs on fails, then proof that the
 * books held (see ../README.md). Progress goes to stderr, the report to stdout; --json writes
 * it all. Exit 0 (no violation, audit passed), 1 (violations, or the run could not complete),
 * 2 (bad options), 130 (interrupted). Every process it started is ended on the way out; its
 * directory is removed unless --keep, or the run failed (the logs say why).
 */
import { parseCommandLine, USAGE } from './options.js';
import { createStack, type Stack } from './processes/stack.js';
import { seededRandom } from './random.js';
import { formatReport, summaryJson, writeJson } from './report.js';
import { runChaos } from './run.js';

const say = (line: string): void => void process.stderr.write(`${line}\n`);

const parsed = parseCommandLine(process.argv.slice(2));
if (parsed.kind === 'help') {
  console.log(USAGE);
  process.exit(0);
}
if (parsed.kind === 'invalid') {
  for (const problem of parsed.problems) say(`npm run chaos: ${problem}`);
  process.exit(2);
}
const options = parsed.options;
say(
  `npm run chaos: seed ${options.seed}, load for at least ${options.durationS} s and until each kind of fault (${options.faultKinds.join(', ')}) was injected ${options.faultsPerKind} time(s)${options.short ? ' (--short)' : ''}`,
);

let stack: Stack | undefined;
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    say(`npm run chaos: ${signal}, ending every process it started`);
    void (stack?.close({ keepDir: options.keep }) ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

let exitCode = 1;
try {
  const startedAt = new Date();
  const clock = (): number => Date.now() - startedAt.getTime();
  // One stream of chance per concern, forked in a fixed order: the seed replays each of them.
  const random = seededRandom(options.seed);
  stack = await createStack(random.fork(), clock);
  const summary = await runChaos(options, stack, { random, clock, startedAt }, say);
  console.log(formatReport(summary));
  if (options.jsonPath) {
    writeJson(options.jsonPath, summaryJson(summary));
    say(`report written to ${options.jsonPath}`);
  }
  exitCode = summary.violations.length === 0 && summary.audit.passed ? 0 : 1;
} catch (error) {
  if (!interrupted) say(`npm run chaos: the run could not complete: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
} finally {
  if (!interrupted) {
    // A run that found something keeps its logs and data for whoever looks into it.
    const keepDir = options.keep || exitCode !== 0;
    await stack?.close({ keepDir });
    if (keepDir && stack) say(`kept ${stack.dir} (PostgreSQL data, every process's log)`);
  }
}
if (!interrupted) process.exit(exitCode);
