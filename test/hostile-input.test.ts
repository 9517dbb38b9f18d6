import http2 from 'node:http2';
import { gzipSync } from 'node:zlib';
import { fromBinary } from '@bufbuild/protobuf';
import { BadRequestSchema } from '@tally/contracts';
import { PageTokens } from '@tally/platform';
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

/** The fields a Connect error's google.rpc.BadRequest names (its details are base64 protobuf). */
function violatedFields(answer: ConnectAnswer): string[] {
  const detail = answer.body.details?.find((d) => d.type === 'google.rpc.BadRequest') as { value?: string } | undefined;
  if (detail?.value === undefined) return [];
  return fromBinary(BadRequestSchema, Buffer.from(detail.value, 'base64')).fieldViolations.map((v) => v.field);
}

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

  it.each([
    ['a truncated message', Buffer.from([0x0a])],
    ['a message whose field length runs past its end', Buffer.from([0x0a, 0x05, 0x41])],
    ['a field number zero', Buffer.from([0x02, 0x00])],
  ])('refuses %s in Connect binary as invalid_argument', async (_what, body) => {
    const answer = await call('LedgerService/GetLedger', body, { 'Content-Type': 'application/proto' });
    expect([answer.status, answer.body.code]).toEqual([400, 'invalid_argument']);
    expect(answer.body.message).toMatch(/^the request body cannot be read/);
    expect(violatedFields(answer)).toEqual(['']);
  });

  it('refuses a body that is not the gzip it claims to be as invalid_argument, and reads one that is', async () => {
    const answer = await call('LedgerService/GetLedger', new Uint8Array([0x1f]), { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
    expect([answer.status, answer.body.code]).toEqual([400, 'invalid_argument']);
    const real = await call('LedgerService/GetLedger', gzipSync(JSON.stringify({ ledgerId: '42' })), { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
    expect([real.status, real.body.code]).toEqual([400, 'invalid_argument']);
    expect(real.body.message).toContain('ledger_id');
  });

  it('refuses a truncated message over gRPC-Web with grpc-status 3 in its trailer frame', async () => {
    const response = await fetch(`${t.httpUrl}/tally.v1.LedgerService/GetLedger`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/grpc-web+proto', 'X-Grpc-Web': '1' },
      body: envelope(0, Buffer.from([0x0a])),
    });
    const trailer = lastFrame(Buffer.from(await response.arrayBuffer()));
    expect(trailer.flag & 0x80).toBe(0x80);
    expect(trailer.text).toMatch(/grpc-status: ?3\r\n/);
    expect(decodeURIComponent(trailer.text)).toContain('the request body cannot be read');
  });

  it('refuses a truncated message over gRPC on the HTTP port (h2c) with grpc-status 3', async () => {
    const session = http2.connect(t.httpUrl);
    try {
      const stream = session.request({ ':method': 'POST', ':path': '/tally.v1.LedgerService/GetLedger', 'content-type': 'application/grpc', te: 'trailers' });
      const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once('trailers', resolve));
      const headers = new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once('response', resolve));
      stream.resume();
      stream.end(envelope(0, Buffer.from([0x0a])));
      const status = (await Promise.race([trailers, headers.then((h) => (h['grpc-status'] ? h : trailers))]))['grpc-status'];
      expect(status).toBe('3');
    } finally {
      session.close();
    }
  });

  it.each([
    ['a truncated message', 'proto', envelope(0, Buffer.from([0x0a])), ''],
    ['an envelope cut short', 'proto', envelope(0, Buffer.from([0x0a, 0x01, 0x41])).subarray(0, 7), ''],
    ['two envelopes', 'proto', Buffer.concat([envelope(0, Buffer.alloc(0)), envelope(0, Buffer.alloc(0))]), ''],
    ['a compressed envelope without an encoding', 'proto', envelope(1, Buffer.alloc(0)), ''],
    ['a JSON field the message does not have', 'json', envelope(0, Buffer.from('{"operationId":"x","since":1}')), 'since'],
  ])('refuses %s on a Connect stream with invalid_argument in its end-of-stream message', async (_, codec, body, field) => {
    const response = await fetch(`${t.httpUrl}/tally.v1.OperationService/WatchOperation`, {
      method: 'POST',
      headers: { 'Content-Type': `application/connect+${codec}`, 'Connect-Protocol-Version': '1' },
      body,
    });
    expect(response.status).toBe(200);
    const end = lastFrame(Buffer.from(await response.arrayBuffer()));
    expect(end.flag & 0x02).toBe(0x02);
    const { error } = JSON.parse(end.text) as { error: { code: string; details: Array<{ type: string; value: string }> } };
    expect(error.code).toBe('invalid_argument');
    const badRequest = error.details.find((d) => d.type === 'google.rpc.BadRequest');
    expect(badRequest, 'a BadRequest detail').toBeDefined();
    const violations = fromBinary(BadRequestSchema, Buffer.from(badRequest!.value, 'base64')).fieldViolations;
    expect(violations.map((v) => v.field)).toEqual([field]);
  });

  it('refuses a string that is not UTF-8 in Connect binary, instead of storing U+FFFD', async () => {
    // CreateLedgerRequest: name (field 1) = 0x41 0xFF 0x42, currencies (field 2) = "USD".
    const body = Buffer.from([0x0a, 0x03, 0x41, 0xff, 0x42, 0x12, 0x03, 0x55, 0x53, 0x44]);
    const answer = await call('LedgerService/CreateLedger', body, { 'Content-Type': 'application/proto' });
    expect([answer.status, answer.body.code]).toEqual([400, 'invalid_argument']);
  });

  it('refuses a JSON field the message does not have, naming it, instead of ignoring it', async () => {
    const answer = await json('LedgerService/CreateLedger', { name: 'typo', currencies: ['USD'], overdraft: true });
    expect([answer.status, answer.body.code]).toEqual([400, 'invalid_argument']);
    expect(answer.body.message).toContain('overdraft');
    expect(violatedFields(answer)).toEqual(['overdraft']);
  });

  // Sent as raw text: JSON.stringify could not write 9007199254740993 as the client does.
  it.each([
    ['the JSON number 9007199254740993 (read as ...992 before)', '9007199254740993'],
    ['"0x10" (read as 16 before)', '"0x10"'],
    ['"010" (read as 10 before)', '"010"'],
    ['" 12"', '" 12"'],
    ['"+5"', '"+5"'],
    ['"1e3"', '"1e3"'],
  ])('refuses the int64 %s in Connect JSON, naming the field in a BadRequest', async (_what, amount) => {
    const ledgerId = await ledger();
    const body = `{"ledgerId":"${ledgerId}","transactionId":"t","type":"TRANSACTION_TYPE_CREDIT","amount":${amount},"currency":"USD"}`;
    const answer = await call('LedgerService/SubmitTransaction', body);
    expect([answer.status, answer.body.code]).toEqual([400, 'invalid_argument']);
    expect(violatedFields(answer)).toEqual(['amount']);
    const batch = await call('LedgerService/SubmitTransactions', `{"transactions":[${body.replace('"t"', '"u"')}]}`);
    expect(violatedFields(batch)).toEqual(['transactions[0].amount']);
    // Nothing was accepted: the ledger has no operation.
    const listed = await json('OperationService/ListOperations', { ledgerId });
    expect(listed.body['operations'] ?? []).toEqual([]);
  });

  it('reads an int64 written as a decimal string, and as a JSON number up to 2^53 - 1', async () => {
    const ledgerId = await ledger();
    const submit = (id: string, amount: string) =>
      call('LedgerService/SubmitTransaction', `{"ledgerId":"${ledgerId}","transactionId":"${id}","type":"TRANSACTION_TYPE_CREDIT","amount":${amount},"currency":"USD"}`);
    expect((await submit('s', '"9007199254740993"')).status).toBe(200);
    expect((await submit('n', '9007199254740991')).status).toBe(200);
  });

  it('refuses JSON that is not UTF-8, instead of storing U+FFFD', async () => {
    const body = Buffer.concat([Buffer.from('{"name":"a'), Buffer.from([0xff]), Buffer.from('","currencies":["USD"]}')]);
    const answer = await call('LedgerService/CreateLedger', body);
    expect([answer.status, answer.body.code]).toEqual([400, 'invalid_argument']);
    expect(violatedFields(answer)).toEqual(['']);
    const surrogate = await call('LedgerService/CreateLedger', '{"name":"a\\ud800","currencies":["USD"]}');
    expect(violatedFields(surrogate)).toEqual(['name']);
  });

  // Tokens made without the server's secret: signed with another one, or unsigned as they once were.
  const forger = new PageTokens('a secret that is not the server one, 44 chars');
  const unsigned = (query: string, cursor: string) => Buffer.from(JSON.stringify({ q: query, c: cursor })).toString('base64url');
  it.each([
    ['ListLedgers, a cursor that is no ledger id', 'LedgerService/ListLedgers', (_l: string) => ({ pageToken: forger.encode('ledgers', 'not-a-uuid') })],
    ['ListEntries, a 19-digit cursor beyond int64', 'LedgerService/ListEntries', (l: string) => ({ ledgerId: l, pageToken: forger.encode(`entries:${l}:`, '9999999999999999999') })],
    ['ListOperations, an unsigned cursor beyond int64', 'OperationService/ListOperations', (l: string) => ({ ledgerId: l, pageToken: unsigned(`operations:${l}::`, '9999999999999999999') })],
  ])('refuses a forged page token (%s) as invalid_argument on page_token', async (_what, path, request) => {
    const answer = await json(path, request(await ledger()));
    expect([answer.status, answer.body.code]).toEqual([400, 'invalid_argument']);
    expect(violatedFields(answer)).toEqual(['page_token']);
  });
});


/** One envelope of the Connect streaming, gRPC and gRPC-Web protocols: flags, length, payload. */
function envelope(flag: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(flag, 0);
  header.writeUInt32BE(payload.length, 1);
  return Buffer.concat([header, payload]);
}

/** The last envelope of a response body. */
function lastFrame(body: Buffer): { flag: number; text: string } {
  let last = { flag: 0, text: '' };
  for (let offset = 0; offset + 5 <= body.length; ) {
    const length = body.readUInt32BE(offset + 1);
    last = { flag: body[offset]!, text: body.subarray(offset + 5, offset + 5 + length).toString('utf8') };
    offset += 5 + length;
  }
  return last;
}
