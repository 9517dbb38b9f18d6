import { fromBinary } from '@bufbuild/protobuf';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError } from '@connectrpc/connect';
import { BadRequestSchema, ErrorInfoSchema, ResourceInfoSchema, StatusSchema } from '@tally/contracts';
import { failedPrecondition, invalidArgument, notFound, TallyError } from '@tally/platform';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { statusDetailsBin, toConnectError } from './errors.js';

const logLines: string[] = [];
const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });
const RPC = 'tally.v1.LedgerService/SubmitTransaction';

describe('toConnectError', () => {
  it('maps field violations to google.rpc.BadRequest', () => {
    const error = toConnectError(invalidArgument([{ field: 'amount', description: 'must be positive' }]), logger, RPC);
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.findDetails(BadRequestSchema)[0]?.fieldViolations[0]).toMatchObject({
      field: 'amount',
      description: 'must be positive',
    });
  });

  it('maps reason and metadata to google.rpc.ErrorInfo in the tally.v1 domain', () => {
    const error = toConnectError(
      failedPrecondition('CURRENCY_NOT_ENABLED', 'EUR is not enabled', { currency: 'EUR' }),
      logger,
      RPC,
    );
    expect(error.code).toBe(Code.FailedPrecondition);
    expect(error.rawMessage).toBe('EUR is not enabled');
    expect(error.findDetails(ErrorInfoSchema)[0]).toMatchObject({
      reason: 'CURRENCY_NOT_ENABLED',
      domain: 'tally.v1',
      metadata: { currency: 'EUR' },
    });
  });

  it('maps the resource to google.rpc.ResourceInfo', () => {
    const error = toConnectError(notFound('ledger', 'l-1'), logger, RPC);
    expect(error.code).toBe(Code.NotFound);
    expect(error.findDetails(ResourceInfoSchema)[0]).toMatchObject({ resourceType: 'ledger', resourceName: 'l-1' });
  });

  it('maps every TallyError code to the gRPC code of the same name', () => {
    const codes = ['ALREADY_EXISTS', 'RESOURCE_EXHAUSTED', 'UNAVAILABLE', 'UNIMPLEMENTED', 'DEADLINE_EXCEEDED'] as const;
    expect(codes.map((code) => Code[toConnectError(new TallyError(code, 'x'), logger, RPC).code])).toEqual([
      'AlreadyExists',
      'ResourceExhausted',
      'Unavailable',
      'Unimplemented',
      'DeadlineExceeded',
    ]);
  });

  it('passes a ConnectError through unchanged', () => {
    const original = new ConnectError('slow down', Code.ResourceExhausted);
    expect(toConnectError(original, logger, RPC)).toBe(original);
  });

  it('answers a deadlock or serialization failure ABORTED, retryable, without the SQL', () => {
    const deadlock = Object.assign(new Error('deadlock detected on update ledgers.account'), { code: '40P01' });
    const error = toConnectError(deadlock, logger, RPC);
    expect(error.code).toBe(Code.Aborted);
    expect(error.rawMessage).toMatch(/^conflicted with concurrent work and changed nothing; retry/);
    expect(error.rawMessage).not.toContain('ledgers.account');
    expect(error.findDetails(ErrorInfoSchema)[0]?.reason).toBe('CONCURRENT_CONFLICT');
  });

  it('answers anything else INTERNAL with a correlation id, and logs the error under that id', () => {
    const error = toConnectError(new TypeError('cannot read properties of undefined'), logger, RPC);
    expect(error.code).toBe(Code.Internal);
    const id = /correlation id (\S+)\)$/.exec(error.rawMessage)?.[1];
    expect(error.rawMessage).not.toContain('undefined');
    const logged = logLines.map((line) => JSON.parse(line) as Record<string, unknown>).find((l) => l['correlationId'] === id);
    expect(logged).toMatchObject({ level: 50, rpc: RPC, err: { type: 'TypeError', message: 'cannot read properties of undefined' } });
  });
});

describe('statusDetailsBin', () => {
  it('encodes the google.rpc.Status that gRPC clients read from grpc-status-details-bin', () => {
    const error = toConnectError(invalidArgument([{ field: 'currency', description: 'unknown code' }]), logger, RPC);
    const status = fromBinary(StatusSchema, statusDetailsBin(error));
    expect(status.code).toBe(Code.InvalidArgument);
    expect(status.message).toBe(error.rawMessage);
    const badRequest = anyUnpack(status.details[0]!, BadRequestSchema);
    expect(badRequest?.fieldViolations[0]?.field).toBe('currency');
  });
});
