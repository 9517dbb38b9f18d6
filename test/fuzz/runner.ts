import fc from 'fast-check';
import { CURRENCIES, fuzzRequest, jsonText, TRANSPORTS, type Fixtures, type FuzzRequest, type Transport } from './requests.js';
import { SCENARIOS, type ScenarioContext, type ScenarioResult } from './scenarios.js';
import type { FuzzTarget, MemorySample } from './target.js';
import { openWire, type Answer } from './wire.js';

/**
 * The fuzz run: `count` generated requests (requests.ts) over the three transports, a few at a
 * time, with the connection-level scenarios (scenarios.ts) run beside them, and everything the
 * server answered tallied. What must hold, for the suite and for `npm run fuzz`:
 *
 * - the server never exits (`crashes`);
 * - no request is answered INTERNAL, UNKNOWN or DATA_LOSS (`internals`);
 * - every INVALID_ARGUMENT carries a google.rpc.BadRequest whose violations name fields, the
 *   field the fuzzer broke among them; only a body broken as a whole may be named by the empty
 *   field (`unnamed`);
 * - its memory after the run, once garbage is collected, is near what it was at idle.
 */

export interface FuzzOptions {
  readonly target: FuzzTarget;
  readonly count: number;
  readonly seed: number;
  /** Requests in flight at once. */
  readonly concurrency?: number;
  /** Run every scenario once per this many requests (and at least once); 0: never. */
  readonly scenarioEvery?: number;
  readonly onProgress?: (summary: FuzzSummary) => void;
  /** Which scenarios to run (scenarios.ts names them); all by default. */
  readonly scenarioNames?: readonly string[];
  /** Called as each scenario ends, with how long it took. */
  readonly onScenario?: (result: ScenarioResult, ms: number) => void;
  readonly progressEvery?: number;
}

/** One answer worth a look, with what it takes to send the request again. */
export interface Finding {
  readonly rpc: string;
  readonly transport: Transport;
  readonly label: string;
  readonly brokenField?: string;
  readonly answer: Answer;
  /** The request body, cut to a few hundred characters (base64 for binary). */
  readonly body: string;
}

export interface FuzzSummary {
  readonly seed: number;
  requests: number;
  readonly byTransport: Record<Transport, number>;
  readonly byCode: Record<string, number>;
  readonly byLabel: Record<string, number>;
  internals: number;
  unnamed: number;
  clientErrors: number;
  /** A few of each kind of finding, and of answers that are neither success nor an expected refusal. */
  readonly examples: { internals: Finding[]; unnamed: Finding[]; clientErrors: Finding[]; otherCodes: Finding[] };
  readonly scenarios: ScenarioResult[];
  crashes: number;
  memory?: { readonly idle: MemorySample; readonly after: MemorySample };
  durationMs: number;
}

const INTERNAL_CODES = new Set(['internal', 'unknown', 'data_loss']);
/** What fuzzed input is normally answered; a few examples of any other code are kept for the summary. */
const EXPECTED_CODES = new Set(['ok', 'invalid_argument', 'not_found', 'failed_precondition', 'already_exists']);
const EXAMPLES_KEPT = 10;
/** Requests sampled from the generator at a time (each chunk from its own seed, so a run replays). */
const CHUNK = 250;
/** Requests before the idle memory is read: the server has loaded what it loads once. */
const WARM_UP = 200;
/** Runs shorter than this (the one in `npm test`) run light scenarios. */
const LIGHT_BELOW = 10_000;

export async function runFuzz(options: FuzzOptions): Promise<FuzzSummary> {
  const { target, count, seed } = options;
  const concurrency = options.concurrency ?? 8;
  const started = Date.now();
  const summary: FuzzSummary = {
    seed,
    requests: 0,
    byTransport: Object.fromEntries(TRANSPORTS.map((t) => [t, 0])) as Record<Transport, number>,
    byCode: {},
    byLabel: {},
    internals: 0,
    unnamed: 0,
    clientErrors: 0,
    examples: { internals: [], unnamed: [], clientErrors: [], otherCodes: [] },
    scenarios: [],
    crashes: 0,
    durationMs: 0,
  };
  const wire = openWire(target.grpcAddress, target.httpUrl);
  const fixtures = await makeFixtures(target.httpUrl);
  const arbitrary = fuzzRequest(fixtures);
  const scenarioEvery = options.scenarioEvery === 0 ? Number.POSITIVE_INFINITY : Math.max(1, Math.min(options.scenarioEvery ?? 10_000, count));
  const progressEvery = options.progressEvery ?? 1_000;
  const grpcPort = Number(target.grpcAddress.split(':').pop());
  const httpPort = Number(new URL(target.httpUrl).port);

  let idle: MemorySample | undefined;
  const scenarioRuns: Promise<void>[] = [];
  let next = 0;
  let chunk: FuzzRequest[] = [];
  let chunkStart = 0;
  const take = (): FuzzRequest | undefined => {
    if (next >= count) return undefined;
    if (next - chunkStart >= chunk.length) {
      chunkStart = next;
      chunk = fc.sample(arbitrary, { seed: seed + next, numRuns: CHUNK });
    }
    return chunk[next++ - chunkStart];
  };

  const worker = async (): Promise<void> => {
    for (let request = take(); request !== undefined; request = take()) {
      const index = next;
      if (index === WARM_UP && idle === undefined) idle = await target.memory();
      if (index % scenarioEvery === Math.min(WARM_UP + 1, Math.floor(scenarioEvery / 2))) scenarioRuns.push(runScenarios({ light: count < LIGHT_BELOW, wire, fixtures, grpcPort, httpPort }, summary, options));
      const answer = await wire.send(request);
      record(summary, request, answer);
      if (!target.isRunning()) return;
      if (summary.requests % progressEvery === 0) options.onProgress?.(summary);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  await Promise.all(scenarioRuns);
  wire.close();
  summary.crashes = target.exits.length;
  if (target.isRunning()) {
    idle ??= await target.memory();
    summary.memory = { idle, after: await settledMemory(target, idle) };
  }
  summary.durationMs = Date.now() - started;
  return summary;
}

function record(summary: FuzzSummary, request: FuzzRequest, answer: Answer): void {
  summary.requests++;
  summary.byTransport[request.transport]++;
  summary.byCode[answer.code] = (summary.byCode[answer.code] ?? 0) + 1;
  summary.byLabel[request.label] = (summary.byLabel[request.label] ?? 0) + 1;
  if (INTERNAL_CODES.has(answer.code)) {
    summary.internals++;
    keep(summary.examples.internals, request, answer);
  } else if (answer.code === 'invalid_argument' && !namesTheField(request, answer)) {
    summary.unnamed++;
    keep(summary.examples.unnamed, request, answer);
  } else if (answer.code === 'client-error' || answer.code.startsWith('http ')) {
    summary.clientErrors++;
    keep(summary.examples.clientErrors, request, answer);
  } else if (!EXPECTED_CODES.has(answer.code) && summary.examples.otherCodes.filter((f) => f.answer.code === answer.code).length < 2) {
    keep(summary.examples.otherCodes, request, answer);
  }
}

/**
 * A refusal names the field: it has a BadRequest, every violation names a field (or the body as
 * a whole, when the body was broken as a whole), and one of them is the field the fuzzer broke
 * (or contains it, or lies inside it: `metadata` for `metadata["k"]`).
 */
export function namesTheField(request: Pick<FuzzRequest, 'brokenField'>, answer: Answer): boolean {
  const violations = answer.violations ?? [];
  if (violations.length === 0) return false;
  const broken = request.brokenField;
  if (broken === '') return true;
  if (violations.some((v) => v.field === '')) return false;
  if (broken === undefined) return true;
  const within = (inner: string, outer: string) => inner === outer || inner.startsWith(`${outer}.`) || inner.startsWith(`${outer}[`);
  return violations.some((v) => within(v.field, broken) || within(broken, v.field));
}

function keep(list: Finding[], request: FuzzRequest, answer: Answer): void {
  if (list.length >= EXAMPLES_KEPT) return;
  const { body } = request;
  const text = body.kind === 'bytes' ? `base64:${Buffer.from(body.bytes).toString('base64')}` : body.kind === 'text' ? body.text : jsonText(body.value);
  list.push({
    rpc: `${request.rpc.parent.typeName}/${request.rpc.name}`,
    transport: request.transport,
    label: request.label,
    ...(request.brokenField === undefined ? {} : { brokenField: request.brokenField }),
    answer: { ...answer, message: answer.message.slice(0, 300) },
    body: text.length > 400 ? `${text.slice(0, 400)}… (${text.length} characters)` : text,
  });
}

async function runScenarios(context: ScenarioContext, summary: FuzzSummary, options: FuzzOptions): Promise<void> {
  for (const [name, scenario] of Object.entries(SCENARIOS)) {
    if (options.scenarioNames && !options.scenarioNames.includes(name)) continue;
    const started = Date.now();
    let result: ScenarioResult;
    try {
      result = await scenario(context);
    } catch (error) {
      result = { name, problems: [`the scenario itself failed: ${String(error)}`], codes: {} };
    }
    summary.scenarios.push(result);
    options.onScenario?.(result, Date.now() - started);
  }
}

/**
 * Memory once the run's work has drained: read again for a while when still above idle, since
 * the worker may still be applying what the run submitted.
 */
async function settledMemory(target: FuzzTarget, idle: MemorySample): Promise<MemorySample> {
  let sample = await target.memory();
  for (let i = 0; i < 10 && sample.heapUsed > idle.heapUsed * 1.2; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    sample = await target.memory();
  }
  return sample;
}

/** Two ledgers with money in every currency, a scratch ledger, and operations to name. */
async function makeFixtures(httpUrl: string): Promise<Fixtures> {
  const call = async (path: string, body: unknown): Promise<Record<string, { id: string }>> => {
    const response = await fetch(`${httpUrl}/tally.v1.${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (response.status !== 200) throw new Error(`fixture ${path} answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as Record<string, { id: string }>;
  };
  const ledger = async (name: string) => (await call('LedgerService/CreateLedger', { name, currencies: CURRENCIES, overdraftAllowed: false }))['ledger']!.id;
  const ledgerIds = [await ledger('fuzz-a'), await ledger('fuzz-b')];
  const scratchLedgerId = await ledger('fuzz-scratch');
  const operationIds: string[] = [];
  for (const ledgerId of ledgerIds) {
    for (const currency of CURRENCIES) {
      const submitted = await call('LedgerService/SubmitTransaction', { ledgerId, transactionId: `fz-seed-${currency}`, type: 'TRANSACTION_TYPE_CREDIT', amount: '1000000000', currency });
      operationIds.push(submitted['operation']!.id);
    }
  }
  return { ledgerIds, scratchLedgerId, operationIds };
}

/** The summary as `npm run fuzz` prints it. */
export function describeSummary(summary: FuzzSummary): string {
  const sorted = (counts: Record<string, number>) =>
    Object.entries(counts)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  const lines = [
    `fuzz: ${summary.requests} requests in ${(summary.durationMs / 1000).toFixed(0)} s (seed ${summary.seed})`,
    `  by transport: ${sorted(summary.byTransport)}`,
    `  answers by code: ${sorted(summary.byCode)}`,
    `  requests by what was broken: ${sorted(summary.byLabel)}`,
    `  crashes: ${summary.crashes}; INTERNAL/UNKNOWN: ${summary.internals}; refusals not naming the field: ${summary.unnamed}; transport-level failures: ${summary.clientErrors}`,
  ];
  if (summary.memory) {
    const { idle, after } = summary.memory;
    lines.push(`  memory after GC: heap ${mib(idle.heapUsed)} idle -> ${mib(after.heapUsed)} after; RSS ${mib(idle.rss)} -> ${mib(after.rss)}`);
  }
  for (const scenario of summary.scenarios) {
    lines.push(`  scenario ${scenario.name}: ${scenario.problems.length === 0 ? 'held' : `${scenario.problems.length} problems`} (${sorted(scenario.codes)})`);
    for (const problem of scenario.problems) lines.push(`    - ${problem}`);
  }
  for (const [kind, findings] of Object.entries(summary.examples)) {
    for (const finding of findings) lines.push(`  ${kind}: ${JSON.stringify(finding)}`);
  }
  return lines.join('\n');
}
