import { randomBytes } from 'node:crypto';
import { statement, type Sql } from '@tally/platform';

/**
 * The secret that signs page tokens when TALLY_TOKEN_SECRET is unset: made by the first process
 * that needs it and kept in PostgreSQL, so every process (and every restart) signs alike.
 */
const SECRET_NAME = 'page-token-signing';
const SECRET_BYTES = 32;

/** Inserts a new secret unless one exists, and answers the one that does: safe when processes race. */
const GET_OR_CREATE = statement(
  'access_secret_get_or_create',
  `with made as (
     insert into access.secret (name, value) values ($1, $2) on conflict (name) do nothing returning value
   )
   select value from made union all select value from access.secret where name = $1 limit 1`,
);

export async function pageTokenSecret(sql: Sql): Promise<string> {
  // A process that lost the race to another's uncommitted insert sees neither row in its
  // statement's snapshot; asking again sees the winner's.
  for (let attempt = 0; attempt < 3; attempt++) {
    const [row] = await sql.query<{ value: string }>(GET_OR_CREATE, [SECRET_NAME, randomBytes(SECRET_BYTES).toString('base64url')]);
    if (row !== undefined) return row.value;
  }
  throw new Error('the page token secret was neither found nor created');
}
