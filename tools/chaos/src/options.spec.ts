import { describe, expect, it } from 'vitest';
import { FAULT_KINDS } from './faults/schedule.js';
import { LONG_DEFAULTS, LONG_TIMING, parseCommandLine, SHORT_DEFAULTS, SHORT_TIMING } from './options.js';

const parse = (...argv: string[]) => parseCommandLine(argv, () => 42, (path) => !path.startsWith('/nowhere/'));

describe('npm run chaos options', () => {
  it('runs a few minutes by default, with a random seed', () => {
    expect(parse()).toEqual({
      kind: 'run',
      options: expect.objectContaining({ ...LONG_DEFAULTS, short: false, seed: 42, jsonPath: undefined, keep: false, timing: LONG_TIMING, faultKinds: FAULT_KINDS }),
    });
  });

  it('--short is the form npm test runs: one fault of each kind, short faults', () => {
    expect(parse('--short')).toEqual({ kind: 'run', options: expect.objectContaining({ ...SHORT_DEFAULTS, short: true, timing: SHORT_TIMING }) });
  });

  it('takes values after a space or an equals sign', () => {
    const parsed = parse('--faults-per-kind', '20', '--duration=600', '--seed', '7', '--json', 'out.json', '--keep');
    expect(parsed).toEqual({ kind: 'run', options: expect.objectContaining({ faultsPerKind: 20, durationS: 600, seed: 7, jsonPath: 'out.json', keep: true }) });
  });

  it('reports every bad value, one line each', () => {
    const parsed = parse('--duration', '0', '--seed', '-1', '--faults-per-kind', 'many', '--json', '/nowhere/x.json', '--what', '--clients', '9', '--ledgers', '4');
    expect(parsed.kind).toBe('invalid');
    expect(parsed.kind === 'invalid' && parsed.problems).toEqual([
      '"--what" is not an option of npm run chaos (see --help)',
      '--duration "0" must be a whole number from 1 to 86400',
      '--faults-per-kind "many" must be a whole number from 0 to 10000',
      '--seed "-1" must be a whole number from 0 to 4294967295',
      '--ledgers 4 must be at least --clients 9: each client owns at least one ledger',
      '--json "/nowhere/x.json": its directory does not exist or is not writable',
    ]);
  });

  it('--only narrows the kinds of fault', () => {
    expect(parse('--only', 'postgres-restart,kill-worker')).toEqual({ kind: 'run', options: expect.objectContaining({ faultKinds: ['kill-worker', 'postgres-restart'] }) });
    expect(parse('--only', 'postgres-restart,earthquake')).toEqual({
      kind: 'invalid',
      problems: [expect.stringContaining('--only "postgres-restart,earthquake": not a kind of fault: earthquake')],
    });
  });

  it('a value missing, or a flag given a value', () => {
    expect(parse('--seed')).toEqual({ kind: 'invalid', problems: ['--seed needs a value'] });
    expect(parse('--short=yes')).toEqual({ kind: 'invalid', problems: ['--short takes no value (got "--short=yes")'] });
  });

  it('--help wins', () => {
    expect(parse('--bogus', '--help')).toEqual({ kind: 'help' });
  });
});
