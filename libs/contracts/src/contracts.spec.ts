import { getOption } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { ExchangeService, LedgerService, OperationService, pattern, ProcessingPattern } from './index.js';

describe('contracts', () => {
  it('declares a processing pattern on every RPC, matching its streaming shape', () => {
    for (const service of [LedgerService, ExchangeService, OperationService]) {
      for (const method of service.methods) {
        const declared = getOption(method, pattern);
        expect(declared, `${service.typeName}.${method.name}`).not.toBe(ProcessingPattern.UNSPECIFIED);
        expect(declared === ProcessingPattern.STREAM, `${service.typeName}.${method.name}`).toBe(
          method.methodKind === 'server_streaming',
        );
      }
    }
  });
});
