// Loaded into the Tally process under fuzz (`node --expose-gc --import`): on SIGUSR2 it collects
// garbage and writes the process's memory as one JSON line on stdout, beside the server's logs.
// Not part of Tally: only the fuzz suite starts the server with it.
import { writeSync } from 'node:fs';
import process from 'node:process';

process.on('SIGUSR2', () => {
  globalThis.gc?.();
  globalThis.gc?.();
  const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
  writeSync(1, `${JSON.stringify({ msg: 'fuzz memory probe', rss, heapUsed, heapTotal, external, arrayBuffers })}\n`);
});
