import { describe, expect, it } from 'vitest';
import { transientKind } from './transient.js';

const withCode = (code: string, message = 'x', name = 'Error') => Object.assign(new Error(message), { code, name });

describe('transientKind', () => {
  it('calls a dependency that is down or restarting CONNECTION', () => {
    expect(transientKind(withCode('ECONNREFUSED'))).toBe('CONNECTION');
    expect(transientKind(withCode('57P01'))).toBe('CONNECTION');
    expect(transientKind(withCode('08006'))).toBe('CONNECTION');
    expect(transientKind(new Error('Knex: Timeout acquiring a connection. The pool is probably full.'))).toBe('CONNECTION');
    expect(transientKind(new Error('outer', { cause: withCode('ECONNRESET') }))).toBe('CONNECTION');
  });

  it('calls serialization failures and deadlocks CONFLICT', () => {
    expect(transientKind(withCode('40001'))).toBe('CONFLICT');
    expect(transientKind(withCode('40P01'))).toBe('CONFLICT');
  });

  it('does not call a bug or a constraint violation transient', () => {
    expect(transientKind(new TypeError('x is undefined'))).toBeUndefined();
    expect(transientKind(withCode('23505', 'duplicate key'))).toBeUndefined();
    expect(transientKind('not an error')).toBeUndefined();
  });
});
