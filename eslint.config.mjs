// Lint: TypeScript rules plus the module boundaries of the modular monolith.
// A module is reached only through its facade (`@tally/<module>`); its `src/internal/**` is
// private. Tags in each project.json say what may depend on what.
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

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
            // The composition shared by the apps: which modules exist and how the worker is wired.
            { sourceTag: 'type:runtime', onlyDependOnLibsWithTags: ['type:module', 'type:platform'] },
            // Modules speak domain types: they do not know the wire contracts.
            { sourceTag: 'type:module', onlyDependOnLibsWithTags: ['type:module', 'type:platform'] },
            { sourceTag: 'type:platform', onlyDependOnLibsWithTags: ['type:platform'] },
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: [] },
            // Tools (the benchmark) are clients like any other: the wire contracts only, never the server or its modules.
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:contracts'] },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:app', 'type:runtime', 'type:module', 'type:contracts', 'type:platform'] },
            // Which bounded context may ask which facade.
            { sourceTag: 'scope:currencies', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:operations', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:ledgers', onlyDependOnLibsWithTags: ['scope:shared', 'scope:currencies'] },
            { sourceTag: 'scope:exchange', onlyDependOnLibsWithTags: ['scope:shared', 'scope:currencies'] },
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
