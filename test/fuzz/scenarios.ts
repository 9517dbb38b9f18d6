import http2 from 'node:http2';
import net from 'node:net';
import { fromJson, toBinary, type JsonValue } from '@bufbuild/protobuf';
import { LedgerService, OperationService } from '@tally/contracts';
import type { Fixtures, FuzzRequest } from './requests.js';
import { envelope, type Answer, type Wire } from './wire.js';

/**
 * Hostile clients that no single request describes: deadlines that expire mid-call, clients
 * that vanish mid-stream, thousands of streams on one connection, connections that open and
 * then say nothing (or half a request), bodies above the message limit, rapid resets. Each
 * scenario runs beside the request fuzz and checks that nobody is answered INTERNAL and that a
 * well-behaved client is still served while it lasts.
 */

export interface ScenarioResult {
  readonly name: string;
  /** What went wrong; empty when the scenario held. */
  readonly problems: readonly string[];
  /** Codes answered, for the summary. */
  readonly codes: Readonly<Record<string, number>>;
}

export interface ScenarioContext {
  /** Smaller numbers for the short run in `npm test`: the same situations, fewer of each. */
  readonly light: boolean;
  readonly wire: Wire;
  readonly fixtures: Fixtures;
  readonly grpcPort: number;
  readonly httpPort: number;
}

const INTERNAL_CODES = new Set(['internal', 'unknown', 'data_loss']);
/** Streams opened on one connection by `many-streams` (the servers allow 10,000); fewer when light. */
const MANY_STREAMS = 2_000;
const MANY_STREAMS_LIGHT = 300;
/** Connections held open by `slow-connections`, per kind and port. */
const SLOW_CONNECTIONS = 100;
const SLOW_CONNECTIONS_LIGHT = 25;
/** How long a watch may take to receive the credit made for it, on a busy machine. */
const WATCH_PATIENCE_MS = 20_000;
/** Streams opened and reset at once by `rapid-reset`, per port. */
const RAPID_RESETS = 20_000;
const RAPID_RESETS_LIGHT = 2_000;

type Scenario = (context: ScenarioContext) => Promise<ScenarioResult>;

export const SCENARIOS: Readonly<Record<string, Scenario>> = {
  'deadline-mid-call': deadlineMidCall,
  'vanish-mid-stream': vanishMidStream,
  'many-streams': manyStreams,
  'slow-connections': slowConnections,
  'oversized-bodies': oversizedBodies,
  'rapid-reset': rapidReset,
};

class Tally {
  readonly problems: string[] = [];
  readonly codes: Record<string, number> = {};

  count(answer: Answer, what: string, allowed?: ReadonlySet<string>): void {
    this.codes[answer.code] = (this.codes[answer.code] ?? 0) + 1;
    if (INTERNAL_CODES.has(answer.code)) this.problems.push(`${what}: answered ${answer.code}: ${answer.message}`);
    else if (allowed && !allowed.has(answer.code)) this.problems.push(`${what}: answered ${answer.code} (expected ${[...allowed].join(' or ')}): ${answer.message}`);
  }

  result(name: string): ScenarioResult {
    return { name, problems: this.problems.slice(0, 20), codes: this.codes };
  }
}

const method = (service: typeof LedgerService | typeof OperationService, name: string) => {
  const found = service.methods.find((m) => m.name === name);
  if (!found) throw new Error(`no RPC ${name}`);
  return found;
};

/** A well-behaved client's call, which every scenario expects answered while it runs. */
async function wellBehaved(context: ScenarioContext, tally: Tally, what: string): Promise<void> {
  const ledgerId = context.fixtures.ledgerIds[0]!;
  for (const transport of ['grpc', 'connect-json'] as const) {
    const request: FuzzRequest = { rpc: method(LedgerService, 'GetBalances'), transport, label: 'valid', body: transport === 'grpc' ? { kind: 'bytes', bytes: ledgerIdBytes(ledgerId) } : { kind: 'json', value: { ledgerId } } };
    tally.count(await context.wire.send(request, 10_000), `${what} (${transport})`, new Set(['ok']));
  }
}

/** `{ledger_id: id}` or `{operation_id: id}`: field 1, a string, in both messages. */
function ledgerIdBytes(id: string): Uint8Array {
  return Uint8Array.from([0x0a, id.length, ...Buffer.from(id)]);
}

async function deadlineMidCall(context: ScenarioContext): Promise<ScenarioResult> {
  const tally = new Tally();
  const { ledgerIds } = context.fixtures;
  const transactions = Array.from({ length: 500 }, (_, i) => ({
    ledgerId: ledgerIds[i % ledgerIds.length],
    transactionId: `fz-deadline-${Date.now()}-${i}`,
    type: 'TRANSACTION_TYPE_CREDIT',
    amount: '1',
    currency: 'USD',
  }));
  const allowed = new Set(['ok', 'deadline_exceeded', 'canceled', 'client-error']);
  const calls: Promise<void>[] = [];
  for (const transport of ['grpc', 'connect-json', 'connect-binary'] as const) {
    for (const deadlineMs of [1, 5, 20, 50]) {
      const items = transactions.map((t) => ({ ...t, transactionId: `${t.transactionId}-${transport}-${deadlineMs}` }));
      const batch: FuzzRequest = { rpc: method(LedgerService, 'SubmitTransactions'), transport, label: 'deadline', body: { kind: 'json', value: { transactions: items } } };
      const list: FuzzRequest = { rpc: method(LedgerService, 'ListEntries'), transport, label: 'deadline', body: { kind: 'json', value: { ledgerId: ledgerIds[0], pageSize: 500 } } };
      for (const request of [batch, list]) {
        const encoded = transport === 'connect-json' ? request : { ...request, body: binaryOf(request) };
        calls.push(context.wire.send(encoded, deadlineMs).then((answer) => tally.count(answer, `${request.rpc.name} with a ${deadlineMs} ms deadline over ${transport}`, allowed)));
      }
    }
  }
  await Promise.all(calls);
  await wellBehaved(context, tally, 'after deadlines');
  return tally.result('deadline-mid-call');
}

/** A request written as JSON, as the binary transports send it. */
function binaryOf(request: FuzzRequest): FuzzRequest['body'] {
  if (request.body.kind !== 'json') return request.body;
  return { kind: 'bytes', bytes: toBinary(request.rpc.input, fromJson(request.rpc.input, request.body.value as JsonValue)) };
}

/** One HTTP/2 connection; streams that only need their first bytes read. */
function h2(port: number): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`, { settings: { initialWindowSize: 1 << 20 } });
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

/** Opens a WatchLedger stream over gRPC (gRPC port) or Connect (HTTP port); resolves at its first data, or false. */
function watch(session: http2.ClientHttp2Session, protocol: 'grpc' | 'connect', ledgerId: string, patienceMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.request({
        ':method': 'POST',
        ':path': '/tally.v1.OperationService/WatchLedger',
        'content-type': protocol === 'grpc' ? 'application/grpc' : 'application/connect+proto',
        ...(protocol === 'grpc' ? { te: 'trailers' } : { 'connect-protocol-version': '1' }),
      });
    } catch {
      resolve(false);
      return;
    }
    const timer = setTimeout(() => resolve(false), patienceMs);
    stream.on('error', () => resolve(false));
    stream.once('data', () => {
      clearTimeout(timer);
      resolve(true);
    });
    stream.end(envelope(0, ledgerIdBytes(ledgerId)));
  });
}

/** A credit on the ledger, so that its watchers have something to receive. */
async function credit(context: ScenarioContext, ledgerId: string, tally: Tally): Promise<void> {
  const request: FuzzRequest = {
    rpc: method(LedgerService, 'SubmitTransaction'),
    transport: 'connect-json',
    label: 'valid',
    body: { kind: 'json', value: { ledgerId, transactionId: `fz-watch-${Date.now()}-${Math.random()}`, type: 'TRANSACTION_TYPE_CREDIT', amount: '1', currency: 'USD' } },
  };
  tally.count(await context.wire.send(request, 10_000), 'a credit for the watchers', new Set(['ok']));
}

/**
 * Opens `count` watches of the ledger on `session`, credits it every second (a watch only sees
 * what happens after it has subscribed, and thousands take a while to) until every watch has
 * received something or WATCH_PATIENCE_MS has passed; resolves with how many did.
 */
async function watchers(context: ScenarioContext, session: http2.ClientHttp2Session, protocol: 'grpc' | 'connect', count: number, tally: Tally): Promise<number> {
  const ledgerId = context.fixtures.ledgerIds[0]!;
  let pending = count;
  const served = Array.from({ length: count }, () =>
    watch(session, protocol, ledgerId, WATCH_PATIENCE_MS).then((ok) => {
      pending--;
      return ok;
    }),
  );
  const until = Date.now() + WATCH_PATIENCE_MS;
  while (pending > 0 && Date.now() < until) {
    await credit(context, ledgerId, tally);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  return (await Promise.all(served)).filter(Boolean).length;
}

async function vanishMidStream(context: ScenarioContext): Promise<ScenarioResult> {
  const tally = new Tally();
  for (const [port, protocol] of [[context.grpcPort, 'grpc'], [context.httpPort, 'connect']] as const) {
    for (let round = 0; round < (context.light ? 1 : 3); round++) {
      const session = await h2(port);
      session.on('error', () => undefined);
      const served = await watchers(context, session, protocol, 20, tally);
      if (served < 20) tally.problems.push(`${protocol}: ${20 - served} of 20 watches received nothing`);
      // Gone without a word: no RST_STREAM, no GOAWAY, no FIN handshake.
      session.socket.resetAndDestroy();
    }
  }
  await wellBehaved(context, tally, 'after vanished watchers');
  return tally.result('vanish-mid-stream');
}

async function manyStreams(context: ScenarioContext): Promise<ScenarioResult> {
  const tally = new Tally();
  for (const [port, protocol] of [[context.grpcPort, 'grpc'], [context.httpPort, 'connect']] as const) {
    const session = await h2(port);
    session.on('error', () => undefined);
    const count = context.light ? MANY_STREAMS_LIGHT : MANY_STREAMS;
    const served = await watchers(context, session, protocol, count, tally);
    tally.codes[`${protocol} watches served on one connection`] = served;
    if (served < count) tally.problems.push(`${protocol}: ${count - served} of ${count} watches on one connection received nothing`);
    await wellBehaved(context, tally, `while ${count} watches hold one connection`);
    // close() would wait for the watches to end, which they never do on their own.
    session.destroy();
  }
  return tally.result('many-streams');
}

async function slowConnections(context: ScenarioContext): Promise<ScenarioResult> {
  const tally = new Tally();
  const openers: Record<string, string> = {
    silent: '',
    'half an HTTP/1.1 request': 'POST /tally.v1.LedgerService/GetLedger HTTP/1.1\r\nHost: fuzz\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"ledgerId":',
    'half the HTTP/2 preface': 'PRI * HTTP/2.0\r\n\r\n',
    'half a header line': 'GET /healthz HTTP/1.1\r\nX-Slow: aaaa',
  };
  const sockets: net.Socket[] = [];
  for (const port of [context.grpcPort, context.httpPort]) {
    for (const opening of Object.values(openers)) {
      for (let i = 0; i < (context.light ? SLOW_CONNECTIONS_LIGHT : SLOW_CONNECTIONS); i++) {
        const socket = net.connect(port, '127.0.0.1', () => socket.write(opening));
        socket.on('error', () => undefined);
        socket.on('data', () => undefined);
        sockets.push(socket);
      }
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  await wellBehaved(context, tally, `while ${sockets.length} slow connections are held`);
  tally.codes['slow connections held'] = sockets.filter((s) => !s.destroyed).length;
  for (const socket of sockets) socket.destroy();
  return tally.result('slow-connections');
}

async function oversizedBodies(context: ScenarioContext): Promise<ScenarioResult> {
  const tally = new Tally();
  const name = 'x'.repeat(5 * 1024 * 1024);
  const allowed = new Set(['resource_exhausted', 'client-error']);
  for (const transport of ['grpc', 'connect-json', 'connect-binary'] as const) {
    const request: FuzzRequest = { rpc: method(LedgerService, 'CreateLedger'), transport, label: 'oversized', body: { kind: 'json', value: { name, currencies: ['USD'] } } };
    const sent = transport === 'connect-json' ? request : { ...request, body: binaryOf(request) };
    tally.count(await context.wire.send(sent), `a 5 MiB CreateLedger over ${transport}`, allowed);
  }
  await wellBehaved(context, tally, 'after oversized bodies');
  return tally.result('oversized-bodies');
}

async function rapidReset(context: ScenarioContext): Promise<ScenarioResult> {
  const tally = new Tally();
  const ledgerId = context.fixtures.ledgerIds[0]!;
  const frame = envelope(0, ledgerIdBytes(ledgerId));
  const resets = context.light ? RAPID_RESETS_LIGHT : RAPID_RESETS;
  for (const port of [context.grpcPort, context.httpPort]) {
    let reset = 0;
    while (reset < resets) {
      const session = await h2(port).catch(() => undefined);
      if (!session) break;
      session.on('error', () => undefined);
      session.on('goaway', () => session.destroy());
      await new Promise<void>((resolve) => {
        session.once('close', () => resolve());
        const burst = (): void => {
          for (let i = 0; i < 200 && reset < resets && !session.closed && !session.destroyed; i++) {
            try {
              const stream = session.request({ ':method': 'POST', ':path': '/tally.v1.LedgerService/GetBalances', 'content-type': 'application/grpc', te: 'trailers' });
              stream.on('error', () => undefined);
              stream.end(frame);
              stream.close(http2.constants.NGHTTP2_CANCEL);
              reset++;
            } catch {
              break;
            }
          }
          // Done, or told to go away (GOAWAY): the attacker drops the connection and, if not done, opens another.
          if (reset >= resets || session.closed || session.destroyed) session.destroy();
          else setImmediate(burst);
        };
        burst();
      });
    }
    tally.codes[`resets sent to ${port === context.grpcPort ? 'gRPC' : 'HTTP'} port`] = reset;
    await wellBehaved(context, tally, 'after rapid resets');
  }
  return tally.result('rapid-reset');
}
