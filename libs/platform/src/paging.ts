import { createHmac, timingSafeEqual } from 'node:crypto';
import { Violations } from './violations.js';

/** Page sizes of every List RPC: 0 means the default; more than the maximum is read as the maximum (AIP-158). */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;
/** Page tokens are small opaque cursors; anything longer was not made by us. */
const MAX_PAGE_TOKEN_CHARS = 512;
/** Bytes of HMAC-SHA256 a token carries: 128 bits, beyond any forging by trial. */
const SIGNATURE_BYTES = 16;

export interface PageRequest {
  readonly pageSize: number;
  readonly pageToken: string;
}

/** What a token carries: the query it belongs to (list kind, filters and tenant) and its cursor. */
interface TokenBody {
  readonly q: string;
  readonly c: string;
}

export function checkPageSize(v: Violations, pageSize: number): number {
  if (!v.check(Number.isInteger(pageSize) && pageSize >= 0, 'page_size', 'must not be negative')) return 0;
  return pageSize === 0 ? DEFAULT_PAGE_SIZE : Math.min(pageSize, MAX_PAGE_SIZE);
}

/**
 * Opaque, signed page tokens. A token is its body (query and cursor, base64url JSON) and an
 * HMAC of it under the server's secret: a client cannot make one, alter its cursor, or use it
 * for another query or another tenant's list (the tenant is part of the query). Every process
 * of a deployment signs with the same secret, so a token made by one is read by any.
 */
export class PageTokens {
  readonly #secret: string;

  constructor(secret: string) {
    if (secret.length < 16) throw new RangeError('a page token secret must have at least 16 characters');
    this.#secret = secret;
  }

  encode(query: string, cursor: string): string {
    const body: TokenBody = { q: query, c: cursor };
    const payload = Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
    return `${payload}.${this.#sign(payload).toString('base64url')}`;
  }

  /**
   * Returns the cursor of `token`, `undefined` for the first page, or records a violation when
   * the token was not made by this deployment for `query`, or carries a cursor `isCursor`
   * refuses (a defence in depth: a signed token's cursor was made by the query itself).
   */
  decode(v: Violations, query: string, token: string, isCursor: (cursor: string) => boolean): string | undefined {
    if (token === '') return undefined;
    const bad = 'is not a page token returned by this query (list again from the first page)';
    const [payload, signature, ...rest] = token.length > MAX_PAGE_TOKEN_CHARS ? [] : token.split('.');
    if (payload === undefined || signature === undefined || rest.length > 0 || !this.#verify(payload, signature)) {
      v.add('page_token', bad);
      return undefined;
    }
    try {
      const body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Partial<TokenBody>;
      if (body.q === query && typeof body.c === 'string' && isCursor(body.c)) return body.c;
    } catch {
      // Falls through to the violation below.
    }
    v.add('page_token', bad);
    return undefined;
  }

  #sign(payload: string): Buffer {
    return createHmac('sha256', this.#secret).update(payload, 'utf8').digest().subarray(0, SIGNATURE_BYTES);
  }

  #verify(payload: string, signature: string): boolean {
    if (!/^[A-Za-z0-9_-]+$/.test(payload) || !/^[A-Za-z0-9_-]+$/.test(signature)) return false;
    const given = Buffer.from(signature, 'base64url');
    return given.length === SIGNATURE_BYTES && timingSafeEqual(given, this.#sign(payload));
  }
}
