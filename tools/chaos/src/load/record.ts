import type { PlannedSubmit } from './plan.js';

/**
 * The client side's own record of every submit: what was asked, and what the answer was.
 * It is what the books are checked against at the end.
 */

/** A quote the client obtained and submitted its exchange with. */
export interface QuoteUsed {
  readonly id: string;
  readonly toAmount: bigint;
}

/** The operation an acknowledgement carried, as the client read it. */
export interface Acknowledged {
  readonly kind: 'acknowledged';
  readonly operationId: string;
  readonly ledgerId: string;
  readonly transactionId: string;
}

export type SubmitOutcome =
  | Acknowledged
  /** Answered with a refusal: the operation must not exist. */
  | { readonly kind: 'refused'; readonly code: string; readonly reason: string | undefined; readonly message: string }
  /** Never answered within the retry cap: the operation may exist or not. */
  | { readonly kind: 'gave-up'; readonly lastCode: string };

export interface SubmitRecord extends PlannedSubmit {
  /** The client (lane) that submitted it; each ledger belongs to one client. */
  readonly client: number;
  /** Its place in that client's submits: the order in which they were answered. */
  readonly clientSeq: number;
  readonly quote: QuoteUsed | undefined;
  readonly tries: number;
  readonly outcome: SubmitOutcome;
}
