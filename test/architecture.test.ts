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

  it('refuse a dependency the tags do not allow (ledgers records operations through its port, never by calling the operations module)', async () => {
    const problems = await lintAs(
      'libs/modules/ledgers/src/internal/peek.ts',
      "import { createOperationsFacade } from '@tally/operations';\nexport const peek = createOperationsFacade;\n",
    );
    expect(problems).toContainEqual(expect.stringContaining('scope:ledgers'));
  });

  it('refuse a cycle between modules (exchange asks ledgers, so ledgers may not ask exchange)', async () => {
    const problems = await lintAs(
      'libs/modules/ledgers/src/internal/peek.ts',
      "import { createExchangeFacade } from '@tally/exchange';\nexport const peek = createExchangeFacade;\n",
    );
    expect(problems).toContainEqual(expect.stringContaining('Circular dependency'));
  });

  it('let a module use an allowed facade', async () => {
    const problems = await lintAs(
      'libs/modules/ledgers/src/internal/peek.ts',
      "import { currencies } from '@tally/currencies';\nexport const peek = currencies;\n",
    );
    expect(problems).toEqual([]);
  });

  it.each([
    ['an app', 'pg', 'apps/server/src/peek.ts'],
    ['an app', '@mikro-orm/postgresql', 'apps/server/src/peek.ts'],
    ['the wiring', 'bee-queue', 'libs/runtime/src/peek.ts'],
    ['a module', 'ioredis', 'libs/modules/ledgers/src/internal/peek.ts'],
    ['a module that does not own the queues', 'bee-queue', 'libs/modules/exchange/src/internal/peek.ts'],
    ['the pure currencies module', '@mikro-orm/core', 'libs/modules/currencies/src/internal/peek.ts'],
  ])('refuse %s importing %s directly', async (_who, banned, filePath) => {
    const problems = await lintAs(filePath, `import * as driver from '${banned}';\nexport const peek = driver;\n`);
    expect(problems).toContainEqual(expect.stringMatching(new RegExp(`^@nx/enforce-module-boundaries: .*${banned.replace(/[/@-]/g, '.')}`)));
  });

  it('let the code that owns a driver use it', async () => {
    expect(await lintAs('libs/platform/src/peek.ts', "import pg from 'pg';\nexport const peek = pg;\n")).toEqual([]);
    expect(await lintAs('libs/modules/operations/src/internal/peek.ts', "import Queue from 'bee-queue';\nexport const peek = Queue;\n")).toEqual([]);
    expect(await lintAs('libs/modules/ledgers/src/internal/peek.ts', "import type { EntityManager } from '@mikro-orm/postgresql';\nexport type Peek = EntityManager;\n")).toEqual([]);
  });
});
