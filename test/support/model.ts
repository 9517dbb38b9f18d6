/**
 * The sequential model the system must agree with: a ledger applies its operations one after
 * another in acceptance order; a debit beyond the balance (no overdraft) fails and changes
 * nothing.
 */
export interface ModelOp {
  readonly ledgerId: string;
  readonly type: 'CREDIT' | 'DEBIT';
  readonly amount: bigint;
}

export function runModel(ops: readonly ModelOp[]): { balances: Map<string, bigint>; outcomes: Array<'COMPLETED' | 'FAILED'> } {
  const balances = new Map<string, bigint>();
  const outcomes = ops.map((op) => {
    const balance = balances.get(op.ledgerId) ?? 0n;
    if (op.type === 'DEBIT' && balance < op.amount) return 'FAILED' as const;
    balances.set(op.ledgerId, op.type === 'CREDIT' ? balance + op.amount : balance - op.amount);
    return 'COMPLETED' as const;
  });
  return { balances, outcomes };
}

/** A small deterministic PRNG (mulberry32), so a failing run can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
