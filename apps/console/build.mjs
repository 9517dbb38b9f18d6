// Builds the web console into dist/: index.html, app.js (+ its source map) and app.css.
// Tally serves dist/ at /console. `@tally/client` and `@tally/contracts` are bundled from their
// TypeScript sources (the `@tally/source` export condition), for the browser.
import { build } from 'esbuild';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

const root = import.meta.dirname;
const dist = join(root, 'dist');

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
await build({
  absWorkingDir: root,
  entryPoints: [
    { in: 'src/main.ts', out: 'app' },
    { in: 'src/app.css', out: 'app' },
  ],
  outdir: dist,
  bundle: true,
  platform: 'browser',
  format: 'esm',
  // BigInt (int64 amounts) and top-level ES2022 syntax: every current browser.
  target: ['es2022'],
  conditions: ['@tally/source', 'browser'],
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
});
await copyFile(join(root, 'src', 'index.html'), join(dist, 'index.html'));
