import { describe, expect, it } from 'vitest';
import { FULL_PLAN, parseCommandLine, QUICK_PLAN, type BenchOptions, type PathChecks } from './options.js';

const ANY_PATH: PathChecks = { exists: () => true, canWrite: () => true };

const run = (argv: string[], env: Record<string, string> = {}): BenchOptions => {
  const parsed = parseCommandLine(argv, env, ANY_PATH);
  if (parsed.kind !== 'run') throw new Error(`expected options, got ${JSON.stringify(parsed)}`);
  return parsed.options;
};
const problems = (argv: string[], env: Record<string, string> = {}, paths = ANY_PATH): readonly string[] => {
  const parsed = parseCommandLine(argv, env, paths);
  if (parsed.kind !== 'invalid') throw new Error(`expected problems, got ${parsed.kind}`);
  return parsed.problems;
};

describe('parseCommandLine', () => {
  it('defaults to a full run of every phase against the local Tally', () => {
    const o = run([]);
    expect(o).toMatchObject({
      grpcHost: '127.0.0.1',
      grpcPort: 50051,
      httpPort: 8080,
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/tally',
      pid: undefined,
      ledgers: 1_000,
      connections: 4,
      mixed: false,
      soakSeconds: 0,
      start: false,
      quick: false,
      baselineSeconds: 20,
      openRatePerS: undefined,
      plan: FULL_PLAN,
    });
    expect([...o.phases]).toEqual(['baseline', 'setup', 'single', 'batched', 'open', 'balances', 'watches', 'audit']);
  });

  it('takes its defaults from the same variables as the server', () => {
    const o = run([], { TALLY_GRPC_PORT: '50071', TALLY_HTTP_PORT: '8071', DATABASE_URL: 'postgres://u:p@db:5433/other' });
    expect(o).toMatchObject({ grpcHost: '127.0.0.1', grpcPort: 50071, httpPort: 8071, databaseUrl: 'postgres://u:p@db:5433/other' });
  });

  it('reads every option, in both --name value and --name=value forms', () => {
    const o = run([
      '--grpc', '[::1]:50099', '--http-port=8099', '--database-url', 'postgresql://localhost/x', '--pid', '42',
      '--ledgers=50', '--connections', '2', '--json', 'out.json', '--mixed', '--soak', '600', '--start',
      '--baseline-seconds', '5', '--baseline-script', 'b.sh', '--open-rate', '12.5',
    ]);
    expect(o).toMatchObject({
      grpcHost: '[::1]', grpcPort: 50099, httpPort: 8099, databaseUrl: 'postgresql://localhost/x', pid: 42, ledgers: 50,
      connections: 2, jsonPath: 'out.json', mixed: true, soakSeconds: 600, start: true, baselineSeconds: 5,
      baselineScript: 'b.sh', openRatePerS: 12.5,
    });
  });

  it('makes every phase short with --quick, unless a value is given', () => {
    expect(run(['--quick'])).toMatchObject({ plan: QUICK_PLAN, ledgers: 100, baselineSeconds: 3 });
    expect(run(['--quick', '--ledgers', '300', '--baseline-seconds', '2'])).toMatchObject({ ledgers: 300, baselineSeconds: 2 });
    expect(QUICK_PLAN.watches).toBeLessThan(FULL_PLAN.watches);
  });

  it('runs only the phases asked for, with the setup they need', () => {
    expect([...run(['--only', 'balances']).phases]).toEqual(['setup', 'balances']);
    expect([...run(['--only', 'audit,baseline']).phases]).toEqual(['baseline', 'audit']);
    expect([...run(['--only', 'single,batched', '--no-baseline']).phases]).toEqual(['setup', 'single', 'batched']);
    expect([...run(['--no-baseline']).phases]).not.toContain('baseline');
  });

  it('needs a rate for the open loop when the single submits do not run', () => {
    expect(problems(['--only', 'open'])).toEqual([expect.stringContaining('--open-rate')]);
    expect(problems(['--only', 'balances', '--soak', '60'])).toEqual([expect.stringContaining('--open-rate')]);
    expect(run(['--only', 'open', '--open-rate', '100']).openRatePerS).toBe(100);
  });

  it('reports every bad value on its own line', () => {
    expect(
      problems([
        '--grpc', 'nohost', '--http-port', '0', '--database-url', 'mysql://x/y', '--pid', 'abc', '--ledgers', '1',
        '--connections', '100', '--soak', '-5', '--only', 'single,warp', '--open-rate', '0', '--json=', '--frobnicate',
      ]),
    ).toEqual([
      '"--frobnicate" is not an option of npm run bench (see --help)',
      '--grpc "nohost" must be host:port, for example 127.0.0.1:50051',
      '--http-port "0" must be a whole number from 1 to 65535',
      '--database-url "mysql://x/y" must use postgres:// or postgresql://',
      '--pid "abc" must be a whole number from 1 to 4194304',
      '--ledgers "1" must be a whole number from 2 to 100000',
      '--connections "100" must be a whole number from 1 to 64',
      '--soak "-5" must be a whole number from 0 to 604800',
      '--json needs a path',
      '--open-rate "0" must be a number of submits per second above 0 and at most 100000',
      '--only "single,warp": "warp" not a phase; phases: baseline, setup, single, batched, open, balances, watches, audit',
    ]);
  });

  it('names the variable when a default read from the environment is bad', () => {
    expect(problems([], { TALLY_GRPC_PORT: 'x', TALLY_HTTP_PORT: '70000', DATABASE_URL: 'not a url' })).toEqual([
      'TALLY_GRPC_PORT "x" (the default of --grpc) must be a whole number from 1 to 65535',
      'TALLY_HTTP_PORT (the default of --http-port) "70000" must be a whole number from 1 to 65535',
      'DATABASE_URL (the default of --database-url) "not a url" is not a URL (example: postgres://postgres@127.0.0.1:5432/tally)',
    ]);
  });

  it('refuses a missing value, a repeated option and a value on a flag', () => {
    expect(problems(['--ledgers'])).toEqual(['--ledgers needs a value']);
    expect(problems(['--ledgers', '--quick'])).toEqual(['--ledgers needs a value']);
    expect(problems(['--pid', '1', '--pid', '2'])).toEqual(['--pid is given more than once']);
    expect(problems(['--quick=yes'])).toEqual(['--quick takes no value (got "--quick=yes")']);
  });

  it('checks the paths it will need, along with everything else, before the run', () => {
    const paths: PathChecks = { exists: (path) => path === 'here.sh', canWrite: (path) => path.startsWith('out/') };
    expect(problems(['--json', 'gone/x.json', '--baseline-script', 'there.sh', '--ledgers', '0'], {}, paths)).toEqual([
      '--ledgers "0" must be a whole number from 2 to 100000',
      '--json "gone/x.json": its directory does not exist or is not writable',
      '--baseline-script "there.sh" does not exist',
    ]);
    expect(parseCommandLine(['--json', 'out/x.json', '--baseline-script', 'here.sh'], {}, paths).kind).toBe('run');
  });

  it('answers help before looking at anything else', () => {
    expect(parseCommandLine(['--ledgers', 'x', '--help'], {}, ANY_PATH)).toEqual({ kind: 'help' });
    expect(parseCommandLine(['-h'], {}, ANY_PATH)).toEqual({ kind: 'help' });
  });
});
