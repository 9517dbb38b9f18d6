import { Violations } from './violations.js';

/** Page sizes of every List RPC: 0 means the default; more than the maximum is refused. */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;
/** Page tokens are small opaque cursors; anything longer was not made by us. */
const MAX_PAGE_TOKEN_CHARS = 512;

export interface PageRequest {
  readonly pageSize: number;
  readonly pageToken: string;
}

/**
 * A decoded page token: the cursor it carries and the query it belongs to. A token of one
 * query (list kind plus filters) is refused for another.
 */
interface TokenBody {
  readonly q: string;
  readonly c: string;
}

export function checkPageSize(v: Violations, pageSize: number): number {
  if (!v.check(Number.isInteger(pageSize) && pageSize >= 0, 'page_size', 'must not be negative')) return 0;
  if (!v.check(pageSize <= MAX_PAGE_SIZE, 'page_size', `must be at most ${MAX_PAGE_SIZE}`)) return 0;
  return pageSize === 0 ? DEFAULT_PAGE_SIZE : pageSize;
}

export function encodePageToken(query: string, cursor: string): string {
  const body: TokenBody = { q: query, c: cursor };
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

/**
 * Returns the cursor of `token`, `undefined` for the first page, or records a violation when
 * the token is malformed, belongs to another query, or carries a cursor `isCursor` refuses
 * (tokens are not signed: a forged one must be refused here, not fail in the query).
 */
export function decodePageToken(v: Violations, query: string, token: string, isCursor: (cursor: string) => boolean): string | undefined {
  if (token === '') return undefined;
  const bad = 'is not a page token returned by this query (list again from the first page)';
  if (token.length > MAX_PAGE_TOKEN_CHARS || !/^[A-Za-z0-9_-]+$/.test(token)) {
    v.add('page_token', bad);
    return undefined;
  }
  try {
    const body = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<TokenBody>;
    if (body.q === query && typeof body.c === 'string' && isCursor(body.c)) return body.c;
  } catch {
    // Falls through to the violation below.
  }
  v.add('page_token', bad);
  return undefined;
}
