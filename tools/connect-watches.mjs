#!/usr/bin/env node
// Many WatchLedger streams on one HTTP/2 connection, and what they cost everybody else.
//
//   node tools/connect-watches.mjs [--streams 2000] [--protocol connect|grpc] [--seconds 10]
//
// Against a Tally already running (`npm start`; TALLY_HTTP_PORT and TALLY_GRPC_PORT, or 8080 and
// 50051): creates a ledger, opens the streams on one connection (Connect on the HTTP port, or
// native gRPC on the gRPC port), credits the ledger once a second until every stream has
// received something, then keeps crediting for --seconds while another client calls
// GetBalances (Connect JSON, HTTP/1.1) every 100 ms. Prints when the streams were served and
// that caller's latency while they were held. Exits 1 if a stream was never served or a
// GetBalances call failed. docs/reliability.md reports its figures.
/* global fetch, AbortSignal */
import { Buffer } from 'node:buffer';
import console from 'node:console';
import { randomUUID } from 'node:crypto';
import http2 from 'node:http2';
import process from 'node:process';
import { setTimeout } from 'node:timers';

const args = new Map();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i], process.argv[i + 1]);
const streams = Number(args.get('--streams') ?? 2_000);
const protocol = args.get('--protocol') ?? 'connect';
const steadySeconds = Number(args.get('--seconds') ?? 10);
const unknown = [...args.keys()].filter((k) => !['--streams', '--protocol', '--seconds'].includes(k));
if (unknown.length > 0 || !Number.isSafeInteger(streams) || streams < 1 || !['connect', 'grpc'].includes(protocol) || !(steadySeconds >= 0)) {
  console.error('usage: node tools/connect-watches.mjs [--streams N] [--protocol connect|grpc] [--seconds S]');
  process.exit(2);
}
const httpUrl = `http://127.0.0.1:${process.env.TALLY_HTTP_PORT || 8080}`;
const grpcUrl = `http://127.0.0.1:${process.env.TALLY_GRPC_PORT || 50051}`;
/** How long every stream is given to receive its first message. */
const SERVE_PATIENCE_S = 30;

async function call(method, body) {
  const response = await fetch(`${httpUrl}/tally.v1.${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(`${method}: ${answer.code}: ${answer.message}`);
  return answer;
}
const credit = (ledgerId) =>
  call('LedgerService/SubmitTransaction', { ledgerId, transactionId: randomUUID(), type: 'TRANSACTION_TYPE_CREDIT', amount: '1', currency: 'USD' });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

const { ledger } = await call('LedgerService/CreateLedger', { name: 'connect-watches', currencies: ['USD'], requestId: randomUUID() });
// WatchLedgerRequest { ledger_id = 1 } in one uncompressed envelope.
const message = Buffer.from([0x0a, ledger.id.length, ...Buffer.from(ledger.id)]);
const envelope = Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message]);

const session = http2.connect(protocol === 'grpc' ? grpcUrl : httpUrl, { settings: { initialWindowSize: 1 << 20 } });
session.on('error', () => undefined);
await new Promise((resolve, reject) => session.once('connect', resolve).once('error', reject));
const started = Date.now();
const firstMessageMs = [];
for (let i = 0; i < streams; i++) {
  const stream = session.request({
    ':method': 'POST',
    ':path': '/tally.v1.OperationService/WatchLedger',
    'content-type': protocol === 'grpc' ? 'application/grpc' : 'application/connect+proto',
    ...(protocol === 'grpc' ? { te: 'trailers' } : { 'connect-protocol-version': '1' }),
  });
  stream.on('error', () => undefined);
  stream.once('data', () => firstMessageMs.push(Date.now() - started));
  stream.end(envelope);
}

const latencies = [];
let failures = 0;
let steadyFrom = Number.POSITIVE_INFINITY;
let calling = true;
const caller = (async () => {
  while (calling) {
    const sent = Date.now();
    await call('LedgerService/GetBalances', { ledgerId: ledger.id }).catch(() => failures++);
    if (sent >= steadyFrom) latencies.push(Date.now() - sent);
    await sleep(100);
  }
})();

for (let s = 0; s < SERVE_PATIENCE_S && firstMessageMs.length < streams; s++) {
  await credit(ledger.id);
  await sleep(1_000);
  process.stderr.write(`${((Date.now() - started) / 1000).toFixed(1)} s: ${firstMessageMs.length} of ${streams} streams served\n`);
}
steadyFrom = Date.now();
for (let s = 0; s < steadySeconds; s++) {
  await credit(ledger.id);
  await sleep(1_000);
}
calling = false;
await caller;
session.destroy();

latencies.sort((a, b) => a - b);
const summary = {
  protocol,
  streams,
  served: firstMessageMs.length,
  lastServedAfterMs: Math.max(0, ...firstMessageMs),
  getBalancesWhileHeld: { calls: latencies.length, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), maxMs: latencies.at(-1) ?? 0 },
  getBalancesFailures: failures,
};
console.log(JSON.stringify(summary, null, 2));
process.exit(summary.served === streams && failures === 0 ? 0 : 1);
