import { describe, expect, it } from 'vitest';
import { assertTransition, canTransition, isTerminal, OPERATION_STATUSES } from './status.js';

describe('operation state machine', () => {
  it('moves PENDING -> PROCESSING -> COMPLETED | FAILED, and PENDING -> CANCELLED', () => {
    expect(canTransition('PENDING', 'PROCESSING')).toBe(true);
    expect(canTransition('PROCESSING', 'COMPLETED')).toBe(true);
    expect(canTransition('PROCESSING', 'FAILED')).toBe(true);
    expect(canTransition('PENDING', 'CANCELLED')).toBe(true);
  });

  it('records a preparation (an exchange locking its rate) as a version that stays PROCESSING', () => {
    expect(canTransition('PROCESSING', 'PROCESSING')).toBe(true);
    expect(canTransition('PENDING', 'PENDING')).toBe(false);
  });

  it('never leaves a terminal status, and never skips PROCESSING', () => {
    for (const terminal of ['COMPLETED', 'FAILED', 'CANCELLED'] as const) {
      expect(isTerminal(terminal)).toBe(true);
      for (const to of OPERATION_STATUSES) expect(canTransition(terminal, to)).toBe(false);
    }
    expect(canTransition('PENDING', 'COMPLETED')).toBe(false);
    expect(canTransition('PENDING', 'FAILED')).toBe(false);
    expect(canTransition('PROCESSING', 'CANCELLED')).toBe(false);
    expect(() => assertTransition('COMPLETED', 'PENDING')).toThrow('cannot move from COMPLETED to PENDING');
  });
});
