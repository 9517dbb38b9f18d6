/** A broken promise found by the run, under the check that found it. */
export type Check =
  /** Tally's own audit (`apps/server/dist/audit.js`) did not pass. */
  | 'audit'
  /** Something accepted was still PENDING or PROCESSING when patience ran out. */
  | 'settle'
  /** An acknowledged submit missing, doubled, not the operation acknowledged, or not ended. */
  | 'exactly-once'
  /** A refused submit that exists anyway, or a refusal a valid request should never get. */
  | 'refusal'
  /** An operation or entry no client submitted. */
  | 'phantom'
  /** An operation whose entries or result differ from what its request and status say. */
  | 'effects'
  /** A balance that differs from the client-side model. */
  | 'balance'
  /** A ledger's operations applied out of acceptance order, or a balance chain broken. */
  | 'order'
  /** A Tally process that exited without being killed. */
  | 'crash';

export interface Violation {
  readonly check: Check;
  readonly message: string;
}

export const violation = (check: Check, message: string): Violation => ({ check, message });
