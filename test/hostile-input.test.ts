import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/server.js';

/**
 * Input a hostile or careless client sends over the HTTP port, answered as such: a refusal that
 * names what is wrong, never `internal`, and never half a batch committed behind an error.
 */
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.stop());

interface ConnectAnswer {
  readonly status: number;
  readonly body: Record<string, unknown> & { code?: string; message?: string; details?: Array<{ type: string; debug?: unknown }> };
}

async function call(path: string, body: string | Uint8Array, headers: Record<string, string> = { 'Content-Type': 'application/json' }): Promise<ConnectAnswer> {
  const response = await fetch(`${t.httpUrl}/tally.v1.${path}`, { method: 'POST', headers, body });
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as ConnectAnswer['body']) };
}

const json = (path: string, message: unknown) => call(path, JSON.stringify(message));

async function ledger(): Promise<string> {
  const created = await json('LedgerService/CreateLedger', { name: 'hostile', currencies: ['USD'] });
  return (created.body['ledger'] as { id: string }).id;
}

describe('the HTTP port, given hostile input', () => {
  it('answers a JSON batch with a refused item item by item, the refusal with its field', async () => {
    const ledgerId = await ledger();
    const answer = await json('LedgerService/SubmitTransactions', {
      transactions: [
        { ledgerId, transactionId: 'a', type: 'TRANSACTION_TYPE_CREDIT', amount: '100', currency: 'USD' },
        { ledgerId, transactionId: 'b', type: 'TRANSACTION_TYPE_CREDIT', amount: '-5', currency: 'USD' },
      ],
    });
    expect(answer.status).toBe(200);
    const results = answer.body['results'] as Array<{ operation?: unknown; error?: { code: number; details: Array<{ type?: string; '@type'?: string }> } }>;
    expect(results[0]?.operation).toBeDefined();
    expect(results[1]?.error?.code).toBe(3); // INVALID_ARGUMENT
    expect(JSON.stringify(results[1]?.error?.details)).toContain('transactions[1].amount');
  });

  it('refuses a JSON field the message does not have, naming it, instead of ignoring it', async () => {
    const answer = await json('LedgerService/CreateLedger', { name: 'typo', currencies: ['USD'], overdraft: true });
    expect([answer.status, answer.body.code]).toEqual([400, 'invalid_argument']);
    expect(answer.body.message).toContain('overdraft');
  });

  it.each([
    ['ListLedgers, a cursor that is no ledger id', 'LedgerService/ListLedgers', (_l: string) => ({ pageToken: token('ledgers', 'not-a-uuid') })],
    ['ListEntries, a 19-digit cursor beyond int64', 'LedgerService/ListEntries', (l: string) => ({ ledgerId: l, pageToken: token(`entries:${l}:`, '9999999999999999999') })],
    ['ListOperations, a 19-digit cursor beyond int64', 'OperationService/ListOperations', (l: string) => ({ ledgerId: l, pageToken: token(`operations:${l}::`, '9999999999999999999') })],
  ])('refuses a forged page token (%s) as invalid_argument on page_token', async (_what, path, request) => {
    const answer = await json(path, request(await ledger()));
    expect([answer.status, answer.body.code]).toEqual([400, 'invalid_argument']);
    expect(answer.body.message).toContain('page_token');
  });
});

/** A token as the server's (unsigned) encoding would make it, carrying a forged cursor. */
function token(query: string, cursor: string): string {
  return Buffer.from(JSON.stringify({ q: query, c: cursor })).toString('base64url');
}
