import { create } from '@bufbuild/protobuf';
import { DurationSchema } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError } from '@connectrpc/connect';
import { BadRequestSchema, ErrorInfoSchema, ResourceInfoSchema, RetryInfoSchema } from '@tally/contracts';
import { describe, expect, it } from 'vitest';
import { TallyError, toTallyError } from './tally-error.js';

function refusal(): ConnectError {
  return new ConnectError('amount: must be greater than zero', Code.InvalidArgument, { 'x-request-id': 'req-42' }, [
    { desc: ErrorInfoSchema, value: { reason: 'INSUFFICIENT_FUNDS', domain: 'tally.v1', metadata: { balance: '100', amount: '250' } } },
    {
      desc: BadRequestSchema,
      value: {
        fieldViolations: [
          { field: 'amount', description: 'must be greater than zero' },
          { field: 'currencies[1]', description: '"XYZ" is not a supported ISO 4217 currency code' },
        ],
      },
    },
    { desc: RetryInfoSchema, value: { retryDelay: create(DurationSchema, { seconds: 2n, nanos: 500_000_000 }) } },
    { desc: ResourceInfoSchema, value: { resourceType: 'ledger', resourceName: 'l-1' } },
  ]);
}

describe('toTallyError', () => {
  it("decodes ErrorInfo, BadRequest, RetryInfo, ResourceInfo and the server's request id", () => {
    const error = toTallyError(refusal());
    expect(error).toMatchObject({
      code: Code.InvalidArgument,
      rawMessage: 'amount: must be greater than zero',
      reason: 'INSUFFICIENT_FUNDS',
      domain: 'tally.v1',
      facts: { balance: '100', amount: '250' },
      violations: [
        { field: 'amount', description: 'must be greater than zero' },
        { field: 'currencies[1]', description: '"XYZ" is not a supported ISO 4217 currency code' },
      ],
      retryDelayMs: 2_500,
      resource: { type: 'ledger', name: 'l-1' },
      requestId: 'req-42',
    });
    expect(error.metadata.get('x-request-id')).toBe('req-42');
    expect(error.findDetails(ErrorInfoSchema)).toHaveLength(1);
  });

  it('leaves the facts empty when the server sent no details', () => {
    const error = toTallyError(new ConnectError('down', Code.Unavailable));
    expect(error).toMatchObject({ code: Code.Unavailable, reason: undefined, facts: {}, violations: [], retryDelayMs: undefined, requestId: undefined });
  });

  it('turns anything thrown into a TallyError, keeping it as the cause', () => {
    const cause = new Error('boom');
    const error = toTallyError(cause);
    expect(error.code).toBe(Code.Unknown);
    expect(error.cause).toBe(cause);
  });

  it('returns a TallyError as it is', () => {
    const error = toTallyError(refusal());
    expect(toTallyError(error)).toBe(error);
  });
});

describe('TallyError', () => {
  it('is a ConnectError to Connect and to instanceof, and Connect passes it on unchanged', () => {
    const error = toTallyError(refusal());
    expect(error).toBeInstanceOf(ConnectError);
    expect(error).toBeInstanceOf(Error);
    expect(ConnectError.from(error)).toBe(error);
    expect(error.message).toBe('[invalid_argument] amount: must be greater than zero');
  });

  it('is not claimed by a plain ConnectError', () => {
    expect(new ConnectError('x', Code.Internal)).not.toBeInstanceOf(TallyError);
    expect(new Error('x')).not.toBeInstanceOf(TallyError);
    expect(toTallyError(new Error('x'))).toBeInstanceOf(TallyError);
  });
});
