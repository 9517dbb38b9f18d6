import type { HealthImplementation } from 'grpc-health-check';
import type { Logger } from '@tally/platform';

/**
 * Readiness of the process, from the dependencies it cannot serve without (PostgreSQL,
 * Redis). Probes run in the background on a fixed interval so that /readyz and
 * grpc.health.v1 answer from the latest result instantly, and a stalled dependency cannot
 * make health checks themselves hang.
 */

/** Resolves when the dependency answers; rejects (or exceeds the timeout) when it does not. */
export type Probe = () => Promise<unknown>;

export interface ProbeResult {
  readonly ok: boolean;
  /** How long the last probe took; absent before the first one finished. */
  readonly latencyMs?: number;
  /** Why the last probe failed. */
  readonly error?: string;
  /** When the last probe finished (ISO 8601). */
  readonly checkedAt?: string;
}

export interface ReadinessSnapshot {
  /** Every probe answered on its last run. */
  readonly ready: boolean;
  readonly probes: Readonly<Record<string, ProbeResult>>;
  /** What operators must know of how this process runs (for example that API keys are off). */
  readonly warnings?: readonly string[];
}

export interface HealthMonitorOptions {
  /** Named dependency checks, e.g. `{ postgres: () => db.ping(), redis: () => redis.ping() }`. */
  readonly probes: Readonly<Record<string, Probe>>;
  /** Pause between two rounds of probes. */
  readonly intervalMs?: number;
  /** A probe slower than this counts as failed. */
  readonly probeTimeoutMs?: number;
  /** Logs each probe's transitions between ok and failing (not every round). */
  readonly logger?: Logger;
  /** Shown in every snapshot (and so in /readyz); they do not make the process unready. */
  readonly warnings?: readonly string[];
}

export const DEFAULT_PROBE_INTERVAL_MS = 1_000;
export const DEFAULT_PROBE_TIMEOUT_MS = 1_000;
/** Probe errors go to /readyz; keep them to a line. */
const MAX_PROBE_ERROR_CHARS = 200;

type HealthStatusSink = Pick<HealthImplementation, 'setStatus'>;

export class HealthMonitor {
  private readonly intervalMs: number;
  private readonly probeTimeoutMs: number;
  private results: Record<string, ProbeResult>;
  private readonly listeners = new Set<(ready: boolean) => void>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private inFlight: Promise<ReadinessSnapshot> | undefined;

  private readonly probes: Readonly<Record<string, Probe>>;

  constructor(private readonly options: HealthMonitorOptions) {
    this.probes = options.probes;
    this.intervalMs = options.intervalMs ?? DEFAULT_PROBE_INTERVAL_MS;
    this.probeTimeoutMs = options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
    // Not ready until proven otherwise: a process that has not reached its database yet must
    // not receive traffic.
    this.results = Object.fromEntries(
      Object.keys(this.probes).map((name) => [name, { ok: false, error: 'not checked yet' }]),
    );
  }

  /** Probes now, then every `intervalMs` until `stop()`. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const round = async (): Promise<void> => {
      await this.check();
      // Scheduled after a round finishes, so slow probes never overlap; unref'd so the
      // monitor alone never keeps the process alive.
      if (this.running) this.timer = setTimeout(() => void round(), this.intervalMs).unref();
    };
    void round();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
  }

  snapshot(): ReadinessSnapshot {
    const probes = { ...this.results };
    const { warnings } = this.options;
    return { ready: Object.values(probes).every((p) => p.ok), probes, ...(warnings && warnings.length > 0 && { warnings }) };
  }

  /** Runs every probe once (joining a round already running) and returns the new snapshot. */
  check(): Promise<ReadinessSnapshot> {
    this.inFlight ??= this.runProbes().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  /**
   * Mirrors readiness into grpc.health.v1: the whole server ('') and each service name are
   * SERVING exactly when every probe is ok. Returns a function that stops mirroring.
   */
  publishTo(health: HealthStatusSink, serviceNames: readonly string[]): () => void {
    const publish = (ready: boolean): void => {
      for (const name of ['', ...serviceNames]) health.setStatus(name, ready ? 'SERVING' : 'NOT_SERVING');
    };
    publish(this.snapshot().ready);
    this.listeners.add(publish);
    return () => this.listeners.delete(publish);
  }

  private async runProbes(): Promise<ReadinessSnapshot> {
    const wasReady = this.snapshot().ready;
    const entries = await Promise.all(
      Object.entries(this.probes).map(async ([name, probe]) => [name, await this.runProbe(probe)] as const),
    );
    for (const [name, result] of entries) {
      const previous = this.results[name];
      if (previous?.checkedAt !== undefined && previous.ok !== result.ok) {
        if (result.ok) this.options.logger?.info({ probe: name }, 'dependency recovered');
        else this.options.logger?.warn({ probe: name, error: result.error }, 'dependency failing');
      }
      this.results[name] = result;
    }
    const snapshot = this.snapshot();
    if (snapshot.ready !== wasReady) for (const listener of this.listeners) listener(snapshot.ready);
    return snapshot;
  }

  private async runProbe(probe: Probe): Promise<ProbeResult> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.probeTimeoutMs} ms`)), this.probeTimeoutMs);
    });
    try {
      await Promise.race([Promise.resolve().then(probe), timeout]);
      return { ok: true, latencyMs: elapsedMs(started), checkedAt: new Date().toISOString() };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return {
        ok: false,
        latencyMs: elapsedMs(started),
        error: message.slice(0, MAX_PROBE_ERROR_CHARS),
        checkedAt: new Date().toISOString(),
      };
    } finally {
      clearTimeout(timer);
    }
  }
}

function elapsedMs(startedAt: number): number {
  return Math.round(performance.now() - startedAt);
}
