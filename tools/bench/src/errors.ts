/**
 * Errors a phase met, by gRPC status name. The bench sends only valid requests to ledgers it
 * created, so every error is news; the ones that say the server shed load (deadlines,
 * limits) are what a benchmark may provoke, any other (UNAVAILABLE, INTERNAL, INVALID_ARGUMENT,
 * ...) means something broke, and fails the run (exit 1) after it is reported.
 */
export const LOAD_SHEDDING_CODES: ReadonlySet<string> = new Set(['DEADLINE_EXCEEDED', 'RESOURCE_EXHAUSTED']);

/** Different messages kept per code, so a report shows what went wrong without growing with it. */
const MAX_MESSAGES_PER_CODE = 3;

export interface ErrorSummary {
  readonly total: number;
  readonly unexpected: number;
  readonly byCode: Readonly<Record<string, number>>;
  /** A few distinct messages per code, as the server worded them. */
  readonly messages: Readonly<Record<string, readonly string[]>>;
}

export class ErrorTally {
  readonly #counts = new Map<string, number>();
  readonly #messages = new Map<string, string[]>();
  #total = 0;

  add(code: string, message: string): void {
    this.#total += 1;
    this.#counts.set(code, (this.#counts.get(code) ?? 0) + 1);
    const messages = this.#messages.get(code) ?? [];
    if (messages.length < MAX_MESSAGES_PER_CODE && !messages.includes(message)) messages.push(message);
    this.#messages.set(code, messages);
  }

  get total(): number {
    return this.#total;
  }

  summary(): ErrorSummary {
    const byCode = Object.fromEntries([...this.#counts].sort(([a], [b]) => a.localeCompare(b)));
    return {
      total: this.#total,
      unexpected: unexpectedCount(byCode),
      byCode,
      messages: Object.fromEntries(this.#messages),
    };
  }
}

export function unexpectedCount(byCode: Readonly<Record<string, number>>): number {
  return Object.entries(byCode).reduce((sum, [code, count]) => (LOAD_SHEDDING_CODES.has(code) ? sum : sum + count), 0);
}

/** `UNAVAILABLE 3, INTERNAL 1`, or `none`. */
export function formatByCode(byCode: Readonly<Record<string, number>>): string {
  const parts = Object.entries(byCode).map(([code, count]) => `${code} ${count}`);
  return parts.length === 0 ? 'none' : parts.join(', ');
}
