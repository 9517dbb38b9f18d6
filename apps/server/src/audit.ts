#!/usr/bin/env node
/**
 * `npm run audit`: proves the books at any time (see books-audit.ts for what is checked).
 * Prints each finding; exits 0 when there is none, 1 when there is any.
 */
import { ConfigError, createLogger, loadConfig } from '@tally/platform';
import { openInfrastructure } from '@tally/runtime';
import { audit, isClean } from './books-audit.js';

/** Progress goes to stderr every this many operations checked. */
const PROGRESS_EVERY = 10_000;

async function main(): Promise<number> {
  const infra = await openInfrastructure(loadConfig(), createLogger('warn', 'tally-audit'));
  try {
    let reported = 0;
    const report = await audit(infra, (checked) => {
      if (checked - reported >= PROGRESS_EVERY) {
        reported = checked;
        process.stderr.write(`audit: ${checked} operations checked\n`);
      }
    });
    const sections: Array<[string, readonly string[]]> = [
      ['currencies whose entries do not sum to zero', report.currenciesNotZero],
      ['accounts whose balance is not the sum of their entries', report.accountsNotMatchingEntries],
      ['postings that do not balance', report.unbalancedPostings],
      ['transaction ids booked by more than one operation', report.transactionIdsBookedTwice],
      ['operations whose effects do not match their status', report.operationsWithWrongEffects],
      ['ended transfers that left money in TRANSIT', report.operationsLeftInTransit],
      ['operations in flight that no work queue lists', report.operationsNotQueued],
    ];
    for (const [title, findings] of sections) {
      console.log(`${findings.length === 0 ? 'ok  ' : 'FAIL'} ${title}${findings.length === 0 ? ': none' : ':'}`);
      for (const finding of findings) console.log(`       ${finding}`);
    }
    for (const waiting of report.awaitingRequeueInTransit) console.log(`note ${waiting}`);
    console.log(`${report.operationsChecked} ended operations checked; ${report.inFlight} in flight (PENDING or PROCESSING)`);
    return isClean(report) ? 0 : 1;
  } finally {
    await infra.close();
  }
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exitCode = 2;
}
