import { describe, expect, it } from 'vitest';
import { normalizeAddress } from './peer.js';

describe('a call counted by its address (auth off)', () => {
  it('is one client whatever port or form the transport reports', () => {
    for (const seen of ['127.0.0.1', '::ffff:127.0.0.1', '127.0.0.1:50612', 'ipv4:127.0.0.1:50612']) expect(normalizeAddress(seen)).toBe('127.0.0.1');
    for (const seen of ['::1', '[::1]:50612', 'ipv6:[::1]:50612']) expect(normalizeAddress(seen)).toBe('::1');
    expect(normalizeAddress(undefined)).toBe('unknown');
  });
});
