import { fileURLToPath } from 'node:url';

/** The repository's root, from where this file is built (tools/bench/dist/*.js) or read (tools/bench/src/*.ts). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
