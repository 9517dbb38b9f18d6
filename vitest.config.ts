import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from './test/support/test-env.js';

/**
 * One vitest project per Nx project (same name), so `nx test <project>` and the root
 * `vitest run` see the same tests. Unit and integration specs sit beside the code
 * (`src/**\/*.spec.ts`); end-to-end suites live in test/, split between @tally/e2e and
 * @tally/e2e-slow (below), which has no Nx project of its own.
 * Sources are read directly: no build needed to test.
 */
const projects: Array<[name: string, root: string]> = [
  ['@tally/contracts', 'libs/contracts'],
  ['@tally/platform', 'libs/platform'],
  ['@tally/currencies', 'libs/modules/currencies'],
  ['@tally/ledgers', 'libs/modules/ledgers'],
  ['@tally/operations', 'libs/modules/operations'],
  ['@tally/exchange', 'libs/modules/exchange'],
  ['@tally/access', 'libs/modules/access'],
  ['@tally/runtime', 'libs/runtime'],
  ['@tally/server', 'apps/server'],
  ['@tally/worker', 'apps/worker'],
  ['@tally/rates-mock', 'apps/rates-mock'],
  ['@tally/client', 'libs/client'],
  ['@tally/console', 'apps/console'],
  ['@tally/bench', 'tools/bench'],
  ['@tally/chaos', 'tools/chaos'],
];

/**
 * End-to-end suites too slow for the inner loop: each takes from 15 s to 2 min alone, where
 * every other suite takes seconds. `npm run test:quick` leaves their project out; `npm test`
 * and CI run it with the rest.
 */
const SLOW_E2E_SUITES = ['test/faults.test.ts', 'test/bench.test.ts', 'test/consistency.test.ts', 'test/properties.test.ts', 'test/chaos.test.ts', 'test/fuzz.test.ts'];

export default defineConfig({
  // Each `@tally/<project>` resolves to its sources (what the `@tally/source` export condition
  // names for TypeScript), in test files and in the global setup alike.
  resolve: {
    alias: projects.map(([name, root]) => ({
      find: new RegExp(`^${name}$`),
      replacement: fileURLToPath(new URL(`./${root}/src/index.ts`, import.meta.url)),
    })),
  },
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    env: { DATABASE_URL: TEST_DATABASE_URL, REDIS_URL: TEST_REDIS_URL, TALLY_LOG_LEVEL: 'warn' },
    passWithNoTests: true,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: keep the workers few so PostgreSQL and the servers under test get CPU too.
    maxWorkers: 2,
    projects: [
      ...projects.map(([name, root]) => ({
        extends: true as const,
        test: { name, include: [`${root}/src/**/*.spec.ts`] },
      })),
      { extends: true as const, test: { name: '@tally/e2e', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...SLOW_E2E_SUITES] } },
      { extends: true as const, test: { name: '@tally/e2e-slow', include: SLOW_E2E_SUITES } },
    ],
  },
});
