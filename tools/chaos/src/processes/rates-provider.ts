import { join } from 'node:path';
import { startChild, type Child } from './child.js';
import { REPO_ROOT } from './repo.js';

/**
 * The mock rate provider (apps/rates-mock, as built) as a process of the run's own. Cutting
 * it is its `outage` switch: every provider connection is dropped unanswered, as when the
 * real provider is down or unreachable.
 */

const ADMIN_TIMEOUT_MS = 5_000;

export class OwnRatesProvider {
  readonly port: number;
  readonly #logPath: string;
  #child: Child | undefined;

  constructor(runDir: string, port: number) {
    this.port = port;
    this.#logPath = join(runDir, 'rates-mock.log');
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.#child = await startChild({
      name: 'rates-mock',
      command: process.execPath,
      args: [join(REPO_ROOT, 'apps/rates-mock/dist/main.js')],
      env: { RATES_MOCK_PORT: String(this.port), RATES_MOCK_HOST: '127.0.0.1' },
      logPath: this.#logPath,
      readyWhen: (line) => line.includes('"rates mock started"'),
    });
  }

  async setOutage(outage: boolean): Promise<void> {
    const response = await fetch(`${this.url}/admin/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ outage }),
      signal: AbortSignal.timeout(ADMIN_TIMEOUT_MS),
    });
    if (response.status !== 200) throw new Error(`the rate provider refused outage=${outage}: ${response.status} ${await response.text()}`);
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.done) return;
    child.signal('SIGKILL');
    await child.exited;
  }
}
