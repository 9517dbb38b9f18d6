import { create, createFileRegistry, setExtension, type DescService } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, MethodOptionsSchema } from '@bufbuild/protobuf/wkt';
import { Code, createHandlerContext, type HandlerContext } from '@connectrpc/connect';
import {
  ExchangeService,
  file_tally_v1_operation,
  file_tally_v1_options,
  LedgerService,
  OperationService,
  pattern,
  ProcessingPattern,
  SubmitExchangeRequestSchema,
  SubmitTransactionsRequestSchema,
  WatchOperationRequestSchema,
} from '@tally/contracts';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { bindService, type ServiceBinding } from './binding.js';
import { startGrpcServer } from './grpc-server.js';
import { HealthMonitor } from './health.js';
import { startHttpServer } from './http-server.js';
import { checkProcessingPatterns, guardServices, type GuardedMethod } from './processing-patterns.js';
import { failure } from './failure.testing.js';

const logLines: string[] = [];
const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });

interface MethodSpec {
  readonly name: string;
  readonly kind?: 'unary' | 'server_streaming' | 'client_streaming';
  readonly pattern?: ProcessingPattern;
  readonly output?: string;
}

/** A service built at run time, to declare what the real contracts never would. */
function serviceWith(methods: readonly MethodSpec[]): DescService {
  const file = create(FileDescriptorProtoSchema, {
    name: 'test/v1/patterns.proto',
    package: 'test.v1',
    syntax: 'proto3',
    dependency: ['tally/v1/operation.proto', 'tally/v1/options.proto'],
    service: [
      {
        name: 'PatternService',
        method: methods.map((m) => {
          const options = create(MethodOptionsSchema);
          if (m.pattern !== undefined) setExtension(options, pattern, m.pattern);
          return {
            name: m.name,
            inputType: '.tally.v1.WatchOperationRequest',
            outputType: m.output ?? '.tally.v1.WatchOperationResponse',
            serverStreaming: m.kind === 'server_streaming',
            clientStreaming: m.kind === 'client_streaming',
            options,
          };
        }),
      },
    ],
  });
  const imports = new Map([
    ['tally/v1/operation.proto', file_tally_v1_operation],
    ['tally/v1/options.proto', file_tally_v1_options],
  ]);
  return createFileRegistry(file, (name) => imports.get(name)).getService('test.v1.PatternService')!;
}

function problemsOf(bindings: readonly ServiceBinding[]): string {
  try {
    checkProcessingPatterns(bindings);
  } catch (error) {
    return (error as Error).message;
  }
  return '';
}

describe('checkProcessingPatterns', () => {
  it('accepts the Tally contracts as declared', () => {
    const bindings = [LedgerService, ExchangeService, OperationService].map((service) => bindService(service, {}));
    expect(() => checkProcessingPatterns(bindings)).not.toThrow();
  });

  it('refuses an RPC without a pattern, or whose pattern contradicts its shape, listing every problem', () => {
    const service = serviceWith([
      { name: 'Undeclared', kind: 'unary' },
      { name: 'UnaryStream', kind: 'unary', pattern: ProcessingPattern.STREAM },
      { name: 'StreamSync', kind: 'server_streaming', pattern: ProcessingPattern.SYNC },
      { name: 'Upload', kind: 'client_streaming', pattern: ProcessingPattern.STREAM },
      { name: 'AsyncWithoutOperation', kind: 'unary', pattern: ProcessingPattern.ASYNC, output: '.tally.v1.OperationStep' },
      { name: 'Fine', kind: 'server_streaming', pattern: ProcessingPattern.STREAM },
    ]);
    const message = problemsOf([{ service, impl: {} }]);
    expect(message).toMatch(/^refusing to start/);
    expect(message).toContain('test.v1.PatternService/Undeclared declares no (tally.v1.pattern) option');
    expect(message).toContain('test.v1.PatternService/UnaryStream is unary but declares STREAM');
    expect(message).toContain('test.v1.PatternService/StreamSync is server-streaming but declares SYNC');
    expect(message).toContain('test.v1.PatternService/Upload is client_streaming');
    expect(message).toContain('test.v1.PatternService/AsyncWithoutOperation is ASYNC but tally.v1.OperationStep has no');
    expect(message).not.toContain('Fine');
  });

  it('refuses a handler that matches no RPC (a misspelt name would never be called)', () => {
    const binding = { service: OperationService, impl: { getOperatoin: () => ({}) } } as unknown as ServiceBinding;
    expect(problemsOf([binding])).toContain('handler "getOperatoin" matches no RPC of tally.v1.OperationService');
  });

  it('keeps both servers from starting', async () => {
    const bindings = [{ service: serviceWith([{ name: 'Watch', kind: 'server_streaming', pattern: ProcessingPattern.ASYNC }]), impl: {} }];
    const common = { host: '127.0.0.1', port: 0, bindings, health: new HealthMonitor({ probes: {} }), logger };
    const limits = { requestTimeoutMs: 1_000, maxMessageBytes: 1024 };
    await expect(startGrpcServer({ ...common, ...limits })).rejects.toThrow(/Watch is server-streaming but declares ASYNC/);
    await expect(startHttpServer({ ...common, ...limits, corsOrigins: [] })).rejects.toThrow(/declares ASYNC/);
  });
});

function guarded(binding: ServiceBinding, name: string, requestTimeoutMs = 60_000): GuardedMethod {
  const [service] = guardServices([binding], { logger, requestTimeoutMs });
  return service!.methods.find((m) => m.method.name === name)!;
}

function contextFor(method: GuardedMethod, timeoutMs?: number): HandlerContext {
  return createHandlerContext({
    service: method.method.parent,
    method: method.method,
    protocolName: 'test',
    requestMethod: 'POST',
    url: 'http://test',
    timeoutMs,
  });
}

const waitForAbort = (signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));

describe('the handler wrapper', () => {
  it('answers DEADLINE_EXCEEDED when a SYNC handler outlives the server deadline, and aborts its signal', async () => {
    let sawAbort = false;
    const method = guarded(
      bindService(OperationService, {
        async getOperation(_req, ctx) {
          await waitForAbort(ctx.signal);
          sawAbort = true;
          return {};
        },
      }),
      'GetOperation',
      20,
    );
    if (method.kind !== 'unary') throw new Error('unary expected');
    const error = await failure(method.handler(create(WatchOperationRequestSchema), contextFor(method)));
    expect(error.code).toBe(Code.DeadlineExceeded);
    expect(sawAbort).toBe(true);
  });

  it("gives the handler the client's deadline when it is shorter than the server's", async () => {
    let remainingMs: number | undefined;
    const method = guarded(
      bindService(OperationService, {
        async getOperation(_req, ctx) {
          remainingMs = ctx.timeoutMs();
          await waitForAbort(ctx.signal);
          return {};
        },
      }),
      'GetOperation',
    );
    if (method.kind !== 'unary') throw new Error('unary expected');
    const error = await failure(method.handler(create(WatchOperationRequestSchema), contextFor(method, 15)));
    expect(error.code).toBe(Code.DeadlineExceeded);
    expect(remainingMs).toBeLessThanOrEqual(15);
  });

  it('answers INTERNAL (and logs the bug) when an ASYNC handler answers without its operation', async () => {
    const method = guarded(bindService(ExchangeService, { submitExchange: () => ({}) }), 'SubmitExchange');
    if (method.kind !== 'unary') throw new Error('unary expected');
    const error = await failure(method.handler(create(SubmitExchangeRequestSchema), contextFor(method)));
    expect(error.code).toBe(Code.Internal);
    const id = /correlation id (\S+)\)$/.exec(error.rawMessage)?.[1];
    const logged = logLines.find((line) => line.includes(`"correlationId":"${id}"`));
    expect(logged).toContain('ASYNC RPC tally.v1.ExchangeService/SubmitExchange answered without \\"operation\\"');
  });

  it('accepts an ASYNC answer that carries its operation, or its batch results', async () => {
    const exchange = guarded(bindService(ExchangeService, { submitExchange: () => ({ operation: { id: 'op-1' } }) }), 'SubmitExchange');
    if (exchange.kind !== 'unary') throw new Error('unary expected');
    const response = await exchange.handler(create(SubmitExchangeRequestSchema), contextFor(exchange));
    expect(response).toMatchObject({ operation: { id: 'op-1' } });

    const batch = guarded(
      bindService(LedgerService, { submitTransactions: () => ({ results: [{ index: 0 }] }) }),
      'SubmitTransactions',
    );
    if (batch.kind !== 'unary') throw new Error('unary expected');
    await expect(batch.handler(create(SubmitTransactionsRequestSchema), contextFor(batch))).resolves.toMatchObject({
      results: [{ index: 0 }],
    });
    const emptyBatch = guarded(bindService(LedgerService, { submitTransactions: () => ({ results: [] }) }), 'SubmitTransactions');
    if (emptyBatch.kind !== 'unary') throw new Error('unary expected');
    expect((await failure(emptyBatch.handler(create(SubmitTransactionsRequestSchema), contextFor(emptyBatch)))).code).toBe(
      Code.Internal,
    );
  });

  it('does not hold a STREAM to the server deadline', async () => {
    const method = guarded(
      bindService(OperationService, {
        async *watchOperation() {
          await new Promise((resolve) => setTimeout(resolve, 30));
          yield { operation: { id: 'op-1' } };
        },
      }),
      'WatchOperation',
      5,
    );
    if (method.kind !== 'server_streaming') throw new Error('stream expected');
    const received = [];
    for await (const message of method.handler(create(WatchOperationRequestSchema), contextFor(method))) received.push(message);
    expect(received).toHaveLength(1);
  });

  it('answers UNIMPLEMENTED, naming the RPC, where no handler is bound', async () => {
    const method = guarded(bindService(LedgerService, {}), 'SubmitTransfer');
    if (method.kind !== 'unary') throw new Error('unary expected');
    const error = await failure(method.handler(create(WatchOperationRequestSchema), contextFor(method)));
    expect(error.code).toBe(Code.Unimplemented);
    expect(error.rawMessage).toBe('tally.v1.LedgerService/SubmitTransfer is not available yet');
  });
});
