import { build } from 'esbuild';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import * as browserEntry from './browser.js';
import * as nodeEntry from './index.js';

/**
 * A page imports `@tally/client` and a bundler resolves it through package.json's export
 * conditions. The packages directory below makes `@tally/client` resolvable by name from a
 * temporary folder, exactly as node_modules/@tally/client does once npm has linked the
 * workspace, so the conditions are what is tested, not a path.
 */
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const packages = mkdtempSync(join(tmpdir(), 'tally-client-bundle-'));
mkdirSync(join(packages, '@tally'));
symlinkSync(PACKAGE_DIR, join(packages, '@tally', 'client'), 'dir');
afterAll(() => rmSync(packages, { recursive: true, force: true }));

const PAGE = `
import { createTallyClient, TallyError, TransactionType } from '@tally/client';
const tally = createTallyClient({ baseUrl: location.origin, transport: 'grpc-web' });
tally.submitAndWait({ transaction: { ledgerId: 'l-1', type: TransactionType.CREDIT, amount: 1n, currency: 'USD' } })
  .catch((e) => { if (e instanceof TallyError) console.log(e.reason); });
`;

/** Imports of Node's built-ins: what a browser cannot load. */
const NODE_BUILTIN = /(?:from\s*|import\s*\(\s*|require\s*\(\s*)["'](?:node:[\w/]+|http2|http|https|net|tls|zlib)["']/g;

async function bundle(platform: 'browser' | 'node', conditions: string[]): Promise<string> {
  const result = await build({
    stdin: { contents: PAGE, resolveDir: packages, loader: 'ts' },
    nodePaths: [packages],
    bundle: true,
    write: false,
    format: 'esm',
    platform,
    conditions,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

describe('the browser build', () => {
  it('bundles for a page without node:http2 or any other Node built-in', { timeout: 30_000 }, async () => {
    const code = await bundle('browser', ['@tally/source', 'browser']);
    expect(code).toContain('grpc-web');
    expect(code.match(NODE_BUILTIN) ?? []).toEqual([]);
    // esbuild names each bundled file in a comment: connect-node (HTTP/2) must not be one.
    expect(code.match(/node_modules\/@connectrpc\/connect-node\/\S+/g) ?? []).toEqual([]);
  });

  it('is the check that would catch them: the Node build does import node:http2', { timeout: 30_000 }, async () => {
    const code = await bundle('node', ['@tally/source']);
    expect(code.match(NODE_BUILTIN)).toEqual(expect.arrayContaining([expect.stringMatching(/http2/)]));
    expect(code).toMatch(/node_modules\/@connectrpc\/connect-node\//);
  });

  it('offers the same API as the Node build', () => {
    expect(Object.keys(browserEntry).sort()).toEqual(Object.keys(nodeEntry).sort());
  });
});
