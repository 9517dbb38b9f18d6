#!/usr/bin/env node
/**
 * `npm run keys`: the operator's tool for API keys (TALLY_AUTH=required).
 *
 *   npm run keys -- create --tenant <name> --scopes read,write[,admin]   prints a new key, once
 *   npm run keys -- list                                                 every key: id, tenant, scopes, state
 *   npm run keys -- revoke <id>                                          refused by every process within a second
 *
 * Only the key's SHA-256 is stored: a key that is lost is revoked and replaced, never recovered.
 */
import { parseArgs } from 'node:util';
import { createAccessFacade, type ApiKey } from '@tally/access';
import { ConfigError, connectRedis, createLogger, createRedis, isTallyError, loadConfig } from '@tally/platform';
import { prepareDatabase } from '@tally/runtime';

const USAGE = `usage:
  npm run keys -- create --tenant <name> --scopes read,write[,admin]
  npm run keys -- list
  npm run keys -- revoke <key id>`;

class UsageError extends Error {}

function describe(key: ApiKey): string {
  const state = key.revokeTime ? `revoked ${key.revokeTime.toISOString()}` : 'active';
  return `${key.id}  tenant ${key.tenant}  scopes ${key.scopes.join(',')}  ${key.hint}…  created ${key.createTime.toISOString()}  ${state}`;
}

async function main(args: readonly string[]): Promise<number> {
  const [command, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    options: { tenant: { type: 'string' }, scopes: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  if (command === 'create' && (values.tenant === undefined || values.scopes === undefined || positionals.length > 0)) throw new UsageError('create needs --tenant and --scopes');
  if (command === 'revoke' && positionals.length !== 1) throw new UsageError('revoke needs one key id');
  if (command === 'list' && positionals.length > 0) throw new UsageError('list takes no arguments');
  if (command !== 'create' && command !== 'list' && command !== 'revoke') throw new UsageError(command ? `unknown command "${command}"` : 'no command');

  // The database and a Redis connection to tell the running processes of a change: nothing else.
  const config = loadConfig();
  const logger = createLogger('warn', 'tally-keys');
  const db = await prepareDatabase(config.databaseUrl, logger, 2);
  const publisher = createRedis(config.redisUrl, logger, 'keys');
  await connectRedis(publisher, logger);
  const access = createAccessFacade({ db, logger, publisher });
  try {
    if (command === 'create') {
      const { key, secret } = await access.createKey({ tenant: values.tenant!, scopes: values.scopes!.split(',').map((s) => s.trim()) });
      console.log(`created ${describe(key)}`);
      console.log('');
      console.log(`  ${secret}`);
      console.log('');
      console.log('This is the only time the key is shown: keep it now. Send it as `authorization: Bearer <key>`.');
    } else if (command === 'list') {
      const keys = await access.listKeys();
      if (keys.length === 0) console.log('no API keys yet: npm run keys -- create --tenant <name> --scopes read,write');
      for (const key of keys) console.log(describe(key));
    } else {
      console.log(`revoked ${describe(await access.revokeKey(positionals[0]!))}`);
    }
    return 0;
  } catch (error) {
    if (!isTallyError(error)) throw error;
    const fields = error.details.violations?.map((v) => `\n  ${v.field}: ${v.description}`).join('') ?? '';
    console.error(fields === '' ? error.message : `refused:${fields}`);
    return 1;
  } finally {
    access.close();
    // Lets a revocation's message leave before the connection closes.
    await publisher.quit().catch(() => publisher.disconnect());
    await db.close();
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exitCode = 2;
  } else {
    console.error(error instanceof ConfigError ? error.message : error);
    process.exitCode = 2;
  }
}
