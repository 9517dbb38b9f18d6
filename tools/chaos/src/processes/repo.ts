import { fileURLToPath } from 'node:url';

/** The repository's root, from where this file is built (tools/chaos/dist/processes/*.js) or read (tools/chaos/src/processes/*.ts). */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
