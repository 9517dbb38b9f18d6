import type { Transport } from '@connectrpc/connect';
import { toTallyError } from './tally-error.js';

/**
 * A transport whose every failure is a TallyError: unary calls, opening a stream, and reading
 * it. This sits above Connect's own call handling rather than in an interceptor, because
 * Connect replaces whatever an interceptor threw when the call was cancelled or timed out.
 */
export function withTallyErrors(transport: Transport): Transport {
  return {
    async unary(method, signal, timeoutMs, header, input, contextValues) {
      try {
        return await transport.unary(method, signal, timeoutMs, header, input, contextValues);
      } catch (error) {
        throw toTallyError(error);
      }
    },
    async stream(method, signal, timeoutMs, header, input, contextValues) {
      try {
        const response = await transport.stream(method, signal, timeoutMs, header, input, contextValues);
        return { ...response, message: tallyErrorsOf(response.message) };
      } catch (error) {
        throw toTallyError(error);
      }
    },
  };
}

async function* tallyErrorsOf<T>(messages: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* messages;
  } catch (error) {
    throw toTallyError(error);
  }
}
