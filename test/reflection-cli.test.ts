import { fromBinary } from '@bufbuild/protobuf';
import { BadRequestSchema } from '@tally/contracts';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/server.js';

/**
 * What a person at a terminal does: `buf curl` against server reflection, with no proto files.
 */
const run = promisify(execFile);
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.stop());

async function bufCurl(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run('node_modules/.bin/buf', ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', ...args]);
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

describe('buf curl through reflection', () => {
  it('lists every Tally service and the health service', async () => {
    const { stdout } = await bufCurl('--list-services', `http://${t.grpcAddress}`);
    for (const service of ['tally.v1.LedgerService', 'tally.v1.ExchangeService', 'tally.v1.OperationService', 'grpc.health.v1.Health']) {
      expect(stdout).toContain(service);
    }
  });

  it('creates a ledger with USD, EUR and JPY and reads its three zero balances', async () => {
    const created = await bufCurl(
      '-d',
      '{"name":"Terminal","currencies":["USD","EUR","JPY"]}',
      `http://${t.grpcAddress}/tally.v1.LedgerService/CreateLedger`,
    );
    expect(created.code).toBe(0);
    const ledgerId = (JSON.parse(created.stdout) as { ledger: { id: string } }).ledger.id;
    const balances = await bufCurl('-d', JSON.stringify({ ledger_id: ledgerId }), `http://${t.grpcAddress}/tally.v1.LedgerService/GetBalances`);
    expect(JSON.parse(balances.stdout)).toEqual({
      balances: [
        { currency: 'EUR', exponent: 2 },
        { currency: 'JPY' },
        { currency: 'USD', exponent: 2 },
      ],
    });
  });

  it('shows a readable INVALID_ARGUMENT with each bad field', async () => {
    const refused = await bufCurl(
      '-d',
      JSON.stringify({ name: 'x'.repeat(10_000), currencies: ['XYZ'] }),
      `http://${t.grpcAddress}/tally.v1.LedgerService/CreateLedger`,
    );
    expect(refused.code).not.toBe(0);
    const error = JSON.parse(refused.stderr) as { code: string; message: string; details: Array<{ type: string; value: string }> };
    expect(error.code).toBe('invalid_argument');
    // The message alone names every field, for people; the detail is for programs.
    expect(error.message).toContain('name: must have at most 200 characters (got 10000)');
    expect(error.message).toContain('currencies[0]: "XYZ" is not a supported ISO 4217 currency code');
    const badRequest = error.details.find((d) => d.type === 'google.rpc.BadRequest');
    const violations = fromBinary(BadRequestSchema, Buffer.from(badRequest!.value, 'base64')).fieldViolations;
    expect(violations.map((v) => v.field)).toEqual(['name', 'currencies[0]']);
  });
});
