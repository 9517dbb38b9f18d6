import type { Interceptor } from '@connectrpc/connect';

/** Header names and values as `new Headers()` takes them: a record, pairs, or a Headers. */
export type HeaderValues = NonNullable<ConstructorParameters<typeof Headers>[0]>;

/** Headers sent on every call: fixed, or asked for before each call (a token that rotates, say). */
export type CallHeaders = HeaderValues | (() => HeaderValues | Promise<HeaderValues>);

/** Adds the caller's headers, and `authorization: Bearer <apiKey>` when there is a key, to every call. */
export function callHeaders(headers: CallHeaders | undefined, apiKey: string | undefined): Interceptor {
  return (next) => async (req) => {
    const extra = typeof headers === 'function' ? await headers() : headers;
    if (extra !== undefined) new Headers(extra).forEach((value, name) => req.header.set(name, value));
    if (apiKey !== undefined) req.header.set('authorization', `Bearer ${apiKey}`);
    return next(req);
  };
}
