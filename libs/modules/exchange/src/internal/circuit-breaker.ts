/**
 * Stops calling a provider that keeps failing: after `failureThreshold` failures in a row the
 * circuit opens and calls are skipped (the caller falls back) for `openMs`; then one trial
 * call is let through (half-open): success closes the circuit, failure opens it again.
 */
export interface BreakerPolicy {
  readonly failureThreshold: number;
  readonly openMs: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

export class CircuitBreaker {
  private failures = 0;
  private openUntilMs = 0;
  private trialInFlight = false;

  constructor(
    private readonly policy: BreakerPolicy,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): BreakerState {
    if (this.failures < this.policy.failureThreshold) return 'closed';
    return this.now() < this.openUntilMs ? 'open' : 'half-open';
  }

  /** Whether a call may go out now. In half-open, only one at a time. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  success(): void {
    this.failures = 0;
    this.trialInFlight = false;
  }

  failure(): void {
    this.trialInFlight = false;
    this.failures++;
    if (this.failures >= this.policy.failureThreshold) this.openUntilMs = this.now() + this.policy.openMs;
  }
}
