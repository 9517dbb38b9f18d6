import { describe, expect, it } from 'vitest';
import { checkPageSize, MAX_PAGE_SIZE, PageTokens } from './paging.js';
import { Violations } from './violations.js';

const tokens = new PageTokens('a secret of this deployment, long enough');
const anyCursor = () => true;

function decode(codec: PageTokens, query: string, token: string): { cursor: string | undefined; fields: string[] } {
  const v = new Violations();
  const cursor = codec.decode(v, query, token, anyCursor);
  return { cursor, fields: v.all.map((x) => x.field) };
}

describe('page tokens', () => {
  it('give back the cursor of a token this deployment made for the same query', () => {
    expect(decode(tokens, 'ledgers:t:acme', tokens.encode('ledgers:t:acme', '42'))).toEqual({ cursor: '42', fields: [] });
    expect(decode(tokens, 'ledgers:t:acme', '')).toEqual({ cursor: undefined, fields: [] });
    // Another process of the deployment, with the same secret, reads it too.
    expect(decode(new PageTokens('a secret of this deployment, long enough'), 'q', tokens.encode('q', 'c')).cursor).toBe('c');
  });

  it('refuse a token of another query, another tenant, another secret, or altered in any way', () => {
    const token = tokens.encode('ledgers:t:acme', '42');
    const [payload, signature] = token.split('.') as [string, string];
    const forgedBody = Buffer.from(JSON.stringify({ q: 'ledgers:t:acme', c: '41' })).toString('base64url');
    const refused = [
      decode(tokens, 'ledgers:t:globex', token),
      decode(tokens, 'entries:t:acme', token),
      decode(new PageTokens('the secret of another deployment!'), 'ledgers:t:acme', token),
      decode(tokens, 'ledgers:t:acme', `${forgedBody}.${signature}`),
      decode(tokens, 'ledgers:t:acme', `${payload}.${signature.slice(0, -2)}`),
      decode(tokens, 'ledgers:t:acme', payload),
      decode(tokens, 'ledgers:t:acme', `${token}.x`),
      decode(tokens, 'ledgers:t:acme', 'a'.repeat(600)),
      decode(tokens, 'ledgers:t:acme', 'not base64!'),
    ];
    for (const r of refused) expect(r).toEqual({ cursor: undefined, fields: ['page_token'] });
  });

  it('refuse a signed token whose cursor the query would not take', () => {
    const v = new Violations();
    expect(tokens.decode(v, 'q', tokens.encode('q', 'not-a-number'), (c) => /^\d+$/.test(c))).toBeUndefined();
    expect(v.all.map((x) => x.field)).toEqual(['page_token']);
  });

  it('refuse a secret too short to sign with', () => {
    expect(() => new PageTokens('short')).toThrow(RangeError);
  });
});

describe('page sizes', () => {
  it('read 0 as the default, more than the maximum as the maximum, and refuse a negative one', () => {
    const v = new Violations();
    expect(checkPageSize(v, 0)).toBe(50);
    expect(checkPageSize(v, 7)).toBe(7);
    expect(checkPageSize(v, MAX_PAGE_SIZE + 1)).toBe(MAX_PAGE_SIZE);
    expect(v.isEmpty).toBe(true);
    checkPageSize(v, -1);
    expect(v.all).toEqual([{ field: 'page_size', description: 'must not be negative' }]);
  });
});
