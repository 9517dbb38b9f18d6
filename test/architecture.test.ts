import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * The module boundaries are enforced by lint, so CI fails on a violation. These cases feed the
 * real lint configuration a file as a module's author might write it.
 */
const eslint = new ESLint({ cwd: process.cwd() });

async function lintAs(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

describe('module boundaries', () => {
  it("refuse a deep import into another module's internals", async () => {
    const problems = await lintAs(
      'libs/modules/ledgers/src/internal/peek.ts',
      "import { canTransition } from '@tally/operations/src/internal/status.js';\nexport const peek = canTransition;\n",
    );
    expect(problems.some((p) => p.startsWith('no-restricted-imports'))).toBe(true);
  });

  it('refuse a relative import across projects', async () => {
    const problems = await lintAs(
      'libs/modules/ledgers/src/internal/peek.ts',
      "import { isTerminal } from '../../../operations/src/internal/status.js';\nexport const peek = isTerminal;\n",
    );
    expect(problems.some((p) => p.startsWith('@nx/enforce-module-boundaries'))).toBe(true);
  });

  it('refuse a dependency the tags do not allow (ledgers may not call exchange)', async () => {
    const problems = await lintAs(
      'libs/modules/ledgers/src/internal/peek.ts',
      "import { createExchangeFacade } from '@tally/exchange';\nexport const peek = createExchangeFacade;\n",
    );
    expect(problems).toContainEqual(expect.stringContaining('scope:ledgers'));
  });

  it('let a module use an allowed facade', async () => {
    const problems = await lintAs(
      'libs/modules/ledgers/src/internal/peek.ts',
      "import { currencies } from '@tally/currencies';\nexport const peek = currencies;\n",
    );
    expect(problems).toEqual([]);
  });
});
