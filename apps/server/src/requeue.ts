#!/usr/bin/env node
/**
 * `npm run requeue`: the operator's tool for operations that FAILED only because their retries
 * ran out (error RETRIES_EXHAUSTED). Without arguments it lists them; with operation ids it puts
 * each back to PENDING and queues it, to be applied again in its partition. Business failures
 * (insufficient funds, ...) are final and refused.
 *
 *   npm run requeue                      list what may be requeued
 *   npm run requeue -- <id> [<id> ...]   requeue these
 */
import { ConfigError, createLogger, isTallyError, loadConfig } from '@tally/platform';
import { openInfrastructure } from '@tally/runtime';

const LIST_LIMIT = 100;

async function main(ids: readonly string[]): Promise<number> {
  const config = loadConfig();
  const infra = await openInfrastructure(config, createLogger('warn', 'tally-requeue'));
  try {
    if (ids.length === 0) {
      const waiting = await infra.operations.listRequeueable(LIST_LIMIT);
      if (waiting.length === 0) console.log('no operation is waiting to be requeued');
      for (const op of waiting) {
        console.log(`${op.id}  ${op.kind}  ledger ${op.ledgerId}  tx ${op.transactionId}  attempts ${op.attempts}  ${op.error?.details['last_error'] ?? ''}`);
      }
      if (waiting.length === LIST_LIMIT) console.log(`(the first ${LIST_LIMIT} shown)`);
      return 0;
    }
    let failures = 0;
    for (const id of ids) {
      try {
        const op = await infra.operations.requeue(id);
        console.log(`${id}: requeued (version ${op.version})`);
      } catch (error) {
        failures++;
        console.error(`${id}: ${isTallyError(error) ? error.message : String(error)}`);
      }
    }
    return failures === 0 ? 0 : 1;
  } finally {
    await infra.close();
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exitCode = 2;
}
