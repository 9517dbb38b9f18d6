import { createHash } from 'node:crypto';
import { UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/postgresql';
import { TallyError } from '@tally/platform';
import { v7 as uuidv7 } from 'uuid';
import { ledgerAccounts, loadLedger, toLedger } from './ledger-store.js';
import { AccountEntity, LedgerEntity } from './schema.js';
import type { Ledger } from './types.js';
import { validateCreateLedger, type CreateLedgerInput, type ValidCreateLedger } from './validation.js';

/**
 * Creates a ledger and one zero-balance account per currency, in one transaction. With a
 * request id, a retry of the same request returns the ledger it created; the same id with a
 * different request is refused ALREADY_EXISTS.
 */
export async function createLedger(em: EntityManager, input: CreateLedgerInput): Promise<Ledger> {
  const valid = validateCreateLedger(input);
  const requestHash = hashRequest(valid);
  if (valid.requestId !== null) {
    const earlier = await findByRequestId(em, valid.requestId, requestHash);
    if (earlier) return earlier;
  }
  const id = uuidv7();
  const now = new Date();
  try {
    await em.transactional(async (tx) => {
      tx.create(LedgerEntity, {
        id,
        name: valid.name,
        overdraftAllowed: valid.overdraftAllowed,
        createRequestId: valid.requestId,
        createRequestHash: valid.requestId === null ? null : requestHash,
        createTime: now,
        updateTime: now,
      });
      // Flush the ledger first: accounts reference it.
      await tx.flush();
      for (const currency of valid.currencies) {
        tx.create(AccountEntity, {
          ledgerId: id,
          kind: 'LEDGER',
          currency: currency.code,
          balance: 0n,
          enabled: true,
          shard: 0,
          createTime: now,
          updateTime: now,
        });
      }
      await tx.flush();
    });
  } catch (error) {
    // A concurrent retry with the same request id won the race: answer as it was answered.
    if (error instanceof UniqueConstraintViolationException && valid.requestId !== null) {
      const earlier = await findByRequestId(em.fork(), valid.requestId, requestHash);
      if (earlier) return earlier;
    }
    throw error;
  }
  return loadLedger(em.fork(), id);
}

async function findByRequestId(em: EntityManager, requestId: string, requestHash: string): Promise<Ledger | undefined> {
  const row = await em.findOne(LedgerEntity, { createRequestId: requestId });
  if (!row) return undefined;
  if (row.createRequestHash !== requestHash) {
    throw new TallyError('ALREADY_EXISTS', `request_id ${requestId} was already used for a different CreateLedger request`, {
      reason: 'REQUEST_ID_REUSED',
      resource: { type: 'ledger', name: row.id },
      metadata: { request_id: requestId, ledger_id: row.id },
    });
  }
  return toLedger(row, await ledgerAccounts(em, [row.id]));
}

function hashRequest(valid: ValidCreateLedger): string {
  const canonical = JSON.stringify([valid.name, valid.currencies.map((c) => c.code), valid.overdraftAllowed]);
  return createHash('sha256').update(canonical).digest('hex');
}
