// Lint: TypeScript rules plus the module boundaries of the modular monolith.
// A module is reached only through its facade (`@tally/<module>`); its `src/internal/**` is
// private. Tags in each project.json say what may depend on what.
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

/** Database and Redis drivers: only the platform wraps them. */
const DRIVERS = ['pg', 'pg-*', 'ioredis'];
/** The ORM: only the platform and the modules that own tables. */
const ORM = ['@mikro-orm/*'];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'libs/contracts/src/gen/**', '.nx/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mts', '**/*.mjs'],
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          banTransitiveDependencies: true,
          checkNestedExternalImports: true,
          depConstraints: [
            // Apps compose modules; modules never import apps.
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:runtime', 'type:module', 'type:contracts', 'type:platform'] },
            // The rates mock stands in for an external provider: it knows nothing of Tally's code.
            { sourceTag: 'scope:rates-mock', onlyDependOnLibsWithTags: [] },
            // The composition shared by the apps: which modules exist and how the worker is wired.
            { sourceTag: 'type:runtime', onlyDependOnLibsWithTags: ['type:module', 'type:platform'] },
            // Modules speak domain types: they do not know the wire contracts.
            { sourceTag: 'type:module', onlyDependOnLibsWithTags: ['type:module', 'type:platform'] },
            { sourceTag: 'type:platform', onlyDependOnLibsWithTags: ['type:platform'] },
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: [] },
            // Tools (the benchmark) are clients like any other: the wire contracts only, never the server or its modules.
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:contracts'] },
            // The typed client (@tally/client) is a client like the tools: it knows the wire contracts only.
            { sourceTag: 'type:client', onlyDependOnLibsWithTags: ['type:contracts'] },
            // The web console is a browser app on the typed client.
            { sourceTag: 'type:web', onlyDependOnLibsWithTags: ['type:client', 'type:contracts'] },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:app', 'type:runtime', 'type:module', 'type:contracts', 'type:platform', 'type:client'] },
            // The drivers stay with the code that owns them: PostgreSQL (pg) and Redis (ioredis)
            // behind the platform's Sql, Database and Redis; MikroORM with the modules that own
            // tables and the platform that runs their migrations; the job queue (bee-queue) with
            // the operations module, which owns the partition queues.
            { sourceTag: 'type:app', bannedExternalImports: [...DRIVERS, ...ORM, 'bee-queue'] },
            { sourceTag: 'type:runtime', bannedExternalImports: [...DRIVERS, ...ORM, 'bee-queue'] },
            { sourceTag: 'type:contracts', bannedExternalImports: [...DRIVERS, ...ORM, 'bee-queue'] },
            { sourceTag: 'type:module', bannedExternalImports: DRIVERS },
            { sourceTag: 'scope:currencies', bannedExternalImports: [...ORM, 'bee-queue'] },
            { sourceTag: 'scope:ledgers', bannedExternalImports: ['bee-queue'] },
            { sourceTag: 'scope:exchange', bannedExternalImports: ['bee-queue'] },
            { sourceTag: 'scope:access', bannedExternalImports: ['bee-queue'] },
            { sourceTag: 'type:platform', bannedExternalImports: ['bee-queue'] },
            // Which bounded context may ask which facade.
            { sourceTag: 'scope:currencies', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:operations', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:access', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:ledgers', onlyDependOnLibsWithTags: ['scope:shared', 'scope:currencies'] },
            // Exchange asks ledgers (sync, through its facade) to check a ledger's currencies and to book an exchange's legs.
            { sourceTag: 'scope:exchange', onlyDependOnLibsWithTags: ['scope:shared', 'scope:currencies', 'scope:ledgers'] },
          ],
        },
      ],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@tally/*/*'],
              message: 'Import a module only through its facade: `@tally/<module>`, never a path inside it.',
            },
            {
              group: ['**/internal/**', '!./internal/**', '!../internal/**'],
              message: "Another project's internals are private: use its facade.",
            },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
);
