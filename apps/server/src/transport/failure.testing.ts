import { ConnectError } from '@connectrpc/connect';
import { expect } from 'vitest';

/** Spec helper (`*.testing.ts` files are left out of the build): the ConnectError a call rejects with. */
export async function failure(promise: Promise<unknown>): Promise<ConnectError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConnectError);
  return error as ConnectError;
}
