import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import { isNetworkFailure } from './retry-policy.js';

/**
 * fetch() reports a request that got no answer (refused, reset, cut mid-body) as a bare
 * TypeError, which Connect would pass on as UNKNOWN. gRPC calls that UNAVAILABLE, and so does
 * this client, so that such a failure reads as what it is: worth retrying. A call the caller
 * cancelled (or whose deadline passed) is left to Connect, which reports it as such.
 */
export const networkFailuresAsUnavailable: Interceptor = (next) => async (req) => {
  try {
    const res = await next(req);
    if (!res.stream) return res;
    return { ...res, message: unavailableOnNetworkFailure(res.message, req.signal) };
  } catch (error) {
    throw asUnavailable(error, req.signal);
  }
};

async function* unavailableOnNetworkFailure<T>(messages: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  try {
    yield* messages;
  } catch (error) {
    throw asUnavailable(error, signal);
  }
}

function asUnavailable(error: unknown, signal: AbortSignal): unknown {
  if (signal.aborted || !isNetworkFailure(error)) return error;
  const failure = error as TypeError;
  const cause = failure.cause instanceof Error ? `: ${failure.cause.message}` : '';
  return new ConnectError(`network failure (${failure.message}${cause})`, Code.Unavailable, undefined, undefined, error);
}
