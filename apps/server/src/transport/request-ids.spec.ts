import { describe, expect, it } from 'vitest';
import { clientIdOf, MAX_CLIENT_ID_CHARS, MAX_REQUEST_ID_CHARS, requestIdOf } from './request-ids.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('request ids', () => {
  it('keeps the caller’s id when it looks like one', () => {
    for (const id of ['req-7', '01a23552-a2ff-73ed-9f52-96efe0775d4b', 'svc:orders/42', 'aGVsbG8=']) {
      expect(requestIdOf(new Headers({ 'x-request-id': id }))).toBe(id);
    }
  });

  it('makes a UUID when there is none, or when the sent one could garble a log line', () => {
    expect(requestIdOf(new Headers())).toMatch(UUID);
    for (const bad of ['', 'two words', 'quote"d', 'x'.repeat(MAX_REQUEST_ID_CHARS + 1), 'ünïcode']) {
      expect(requestIdOf(new Headers({ 'x-request-id': bad }))).toMatch(UUID);
    }
  });
});

describe('client ids', () => {
  it('keeps printable ASCII, cut to length, and nothing for an absent or empty one', () => {
    expect(clientIdOf(new Headers({ 'x-client-id': 'web-console 1.2' }))).toBe('web-console 1.2');
    expect(clientIdOf(new Headers({ 'x-client-id': 'a'.repeat(200) }))).toHaveLength(MAX_CLIENT_ID_CHARS);
    expect(clientIdOf(new Headers())).toBeUndefined();
    expect(clientIdOf(new Headers({ 'x-client-id': '\t' }))).toBeUndefined();
  });
});
