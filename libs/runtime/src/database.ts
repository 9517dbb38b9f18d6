import { accessSchema } from '@tally/access';
import { exchangeSchema } from '@tally/exchange';
import { ledgersSchema } from '@tally/ledgers';
import { operationsSchema } from '@tally/operations';
import { Database, ensureDatabaseExists, type Logger, type ModuleSchema } from '@tally/platform';

/** Every module that owns tables, in migration order. */
export const moduleSchemas: readonly ModuleSchema[] = [ledgersSchema, operationsSchema, exchangeSchema, accessSchema];

/**
 * Creates the database when missing, opens it and applies pending migrations. Safe to run
 * again and from several processes at once: migrations run in one transaction under the
 * migrator's lock table, and an applied migration is never applied twice.
 */
export async function prepareDatabase(url: string, logger: Logger, poolMax?: number): Promise<Database> {
  const log = logger.child({ component: 'migrations' });
  if (await ensureDatabaseExists(url)) log.info({ database: new URL(url).pathname.slice(1) }, 'database created');
  const db = await Database.open({ url, modules: moduleSchemas, logger, ...(poolMax === undefined ? {} : { poolMax }) });
  try {
    const applied = await db.migrate();
    log.info({ applied, count: applied.length }, applied.length > 0 ? 'migrations applied' : 'schema up to date');
  } catch (error) {
    await db.close();
    throw error;
  }
  return db;
}
