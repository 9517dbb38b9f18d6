import { randomUUID } from 'node:crypto';
import { createLogger, Database, TallyError } from '@tally/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessSchema, createAccessFacade, KEY_PREFIX, type AccessFacade } from './index.js';
import { checkKeyRequest, generateKey, hashKey, looksLikeKey } from './internal/keys.js';

describe('API keys, made', () => {
  it('are high-entropy, recognisable by their prefix, and stored only as a hash', () => {
    const keys = Array.from({ length: 100 }, () => generateKey());
    expect(new Set(keys.map((k) => k.secret)).size).toBe(100);
    for (const key of keys) {
      expect(key.secret.startsWith(KEY_PREFIX)).toBe(true);
      expect(looksLikeKey(key.secret)).toBe(true);
      expect(key.hash).toBe(hashKey(key.secret));
      expect(key.hash).not.toContain(key.secret.slice(KEY_PREFIX.length, KEY_PREFIX.length + 8));
      expect(key.secret.startsWith(key.hint)).toBe(true);
    }
    expect(looksLikeKey('tally_short')).toBe(false);
    expect(looksLikeKey(`other_${'A'.repeat(43)}`)).toBe(false);
  });

  it('carry a tenant and scopes that are checked, naming each bad one', () => {
    expect(checkKeyRequest('acme-eu', ['write', 'read', 'read'])).toEqual({ tenant: 'acme-eu', scopes: ['read', 'write'] });
    let refused: TallyError | undefined;
    try {
      checkKeyRequest('Acme EU', ['read', 'root']);
    } catch (error) {
      refused = error as TallyError;
    }
    expect(refused?.details.violations?.map((v) => v.field)).toEqual(['tenant', 'scopes[1]']);
    expect(() => checkKeyRequest('acme', [])).toThrow(/scopes: must name at least one/);
  });
});

describe('the access facade, against PostgreSQL', () => {
  let db: Database;
  let access: AccessFacade;
  beforeAll(async () => {
    db = await Database.open({ url: process.env['DATABASE_URL']!, modules: [accessSchema], logger: createLogger('warn') });
    access = createAccessFacade({ db, logger: createLogger('warn') });
  });
  afterAll(async () => {
    access.close();
    await db.close();
  });

  it('authenticates a live key and refuses it once revoked', async () => {
    const tenant = `t-${randomUUID().slice(0, 8)}`;
    const { key, secret } = await access.createKey({ tenant, scopes: ['read'] });
    expect(await access.authenticate(secret)).toEqual({ keyId: key.id, tenant, scopes: new Set(['read']) });
    expect(await access.authenticate(`${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`)).toBeUndefined();
    const revoked = await access.revokeKey(key.id);
    expect(revoked.revokeTime).toBeInstanceOf(Date);
    // This process was told at once (no wait for the cache to expire).
    expect(await access.authenticate(secret)).toBeUndefined();
    expect((await access.revokeKey(key.id)).revokeTime).toEqual(revoked.revokeTime);
    expect((await access.listKeys()).find((k) => k.id === key.id)).toMatchObject({ tenant, hint: key.hint });
  });

  it('answers NOT_FOUND and INVALID_ARGUMENT for revoking what is not a key', async () => {
    await expect(access.revokeKey(randomUUID())).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(access.revokeKey('42')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('keeps one page token secret for the deployment, whoever asks first', async () => {
    const secrets = await Promise.all([1, 2, 3].map(() => access.pageTokenSecret()));
    expect(new Set(secrets).size).toBe(1);
    expect(secrets[0]!.length).toBeGreaterThanOrEqual(32);
  });
});
