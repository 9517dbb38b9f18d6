import { fromJson, toBinary, type DescField, type DescMessage, type DescMethod, type JsonValue } from '@bufbuild/protobuf';
import { ExchangeService, LedgerService, OperationService } from '@tally/contracts';
import fc from 'fast-check';

/**
 * What the fuzzer sends: for every RPC of the three services, a valid request built from the
 * fixtures (a ledger, an operation), then, most of the time, one field of it corrupted, or the
 * whole body. A corruption remembers the field it broke, so that a refusal can be checked for
 * naming it. Binary transports get what protobuf can carry (int64 edges, unknown enum numbers,
 * huge strings and maps, NUL, big batches) and broken wire bytes; Connect JSON gets that and what
 * only JSON can say (wrong types, loose int64 text, unknown keys, lone surrogates, bytes that
 * are not UTF-8, text that is not JSON).
 */

export const SERVICES = [LedgerService, ExchangeService, OperationService] as const;
export const RPCS: readonly DescMethod[] = SERVICES.flatMap((service) => service.methods);

export type Transport = 'grpc' | 'connect-json' | 'connect-binary';
export const TRANSPORTS: readonly Transport[] = ['grpc', 'connect-json', 'connect-binary'];

/** Ids the valid requests refer to, made before the run (fixtures.ts). */
export interface Fixtures {
  /** Ledgers with every currency of CURRENCIES enabled and money on them. */
  readonly ledgerIds: readonly string[];
  /** A ledger whose currencies the fuzz enables and disables, apart from the others. */
  readonly scratchLedgerId: string;
  readonly operationIds: readonly string[];
}

export const CURRENCIES = ['USD', 'EUR', 'JPY', 'SEK'] as const;

export type Body =
  | { readonly kind: 'json'; readonly value: unknown }
  /** Text sent as it is: what JSON.stringify cannot write (`9007199254740993`, broken JSON). */
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array };

export interface FuzzRequest {
  readonly rpc: DescMethod;
  readonly transport: Transport;
  readonly body: Body;
  /** What was done to the valid request, for the summary: `valid`, `json:int64-text`, ... */
  readonly label: string;
  /**
   * The field a refusal must name (a path as violations write it, `transactions[3].amount`);
   * `''` when the body as a whole is broken (the refusal may name no field); undefined when
   * nothing was broken on purpose.
   */
  readonly brokenField?: string;
}

/** A batch as large as SubmitTransactions refuses (MAX_TRANSACTIONS_PER_SUBMIT is 1,000), and a huge one. */
const BATCH_SIZES = [1_001, 100_000] as const;

const clientKey = fc.stringMatching(/^[A-Za-z0-9._:-]{1,24}$/);
const uniqueKey = fc.tuple(clientKey, fc.nat()).map(([key, n]) => `fz-${key}-${n}`.slice(0, 128));
const currency = fc.constantFrom(...CURRENCIES);
const smallAmount = fc.integer({ min: 1, max: 10_000 }).map(String);
const pageSize = fc.integer({ min: 0, max: 20 });

/** Two different items of `items` (a transfer's ledgers, an exchange's currencies). */
function twoOf<T>(items: readonly T[]): fc.Arbitrary<[T, T]> {
  return fc.uniqueArray(fc.constantFrom(...items), { minLength: 2, maxLength: 2 }) as fc.Arbitrary<[T, T]>;
}

/** One valid request (proto3 JSON, as a client would write it) per RPC. */
function validRequest(rpc: DescMethod, f: Fixtures): fc.Arbitrary<Record<string, JsonValue>> {
  const ledgerId = fc.constantFrom(...f.ledgerIds);
  const operationId = fc.constantFrom(...f.operationIds);
  const transaction = fc.record({
    ledgerId,
    transactionId: uniqueKey,
    type: fc.constantFrom('TRANSACTION_TYPE_CREDIT', 'TRANSACTION_TYPE_DEBIT'),
    amount: smallAmount,
    currency,
    metadata: fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), fc.string({ maxLength: 16 }), { maxKeys: 3 }),
  });
  switch (rpc.name) {
    case 'CreateLedger':
      return fc.record({
        // eslint-disable-next-line no-control-regex -- names with control characters are refused; a valid one has none
        name: fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim() !== '' && !/[\u0000-\u001f\u007f]/.test(s)),
        currencies: fc.uniqueArray(currency, { minLength: 1, maxLength: 4 }),
        overdraftAllowed: fc.boolean(),
      });
    case 'GetLedger':
    case 'GetBalances':
    case 'WatchLedger':
      return fc.record({ ledgerId });
    case 'ListLedgers':
      return fc.record({ pageSize });
    case 'EnableCurrency':
    case 'DisableCurrency':
      return fc.record({ ledgerId: fc.constant(f.scratchLedgerId), currency });
    case 'ListEntries':
      return fc.record({ ledgerId, currency, pageSize }, { requiredKeys: ['ledgerId'] });
    case 'SubmitTransaction':
      return transaction;
    case 'SubmitTransactions':
      return fc.record({ transactions: fc.array(transaction, { minLength: 1, maxLength: 4 }) });
    case 'SubmitTransfer':
      return fc
        .tuple(twoOf(f.ledgerIds), uniqueKey, currency, smallAmount)
        .map(([[fromLedgerId, toLedgerId], transactionId, code, amount]) => ({ fromLedgerId, toLedgerId, transactionId, currency: code, amount }));
    case 'ListCurrencies':
      return fc.constant({});
    case 'GetRate':
      return twoOf(CURRENCIES).map(([fromCurrency, toCurrency]) => ({ fromCurrency, toCurrency }));
    case 'CreateQuote':
      return fc.tuple(twoOf(CURRENCIES), smallAmount).map(([[fromCurrency, toCurrency], amount]) => ({ fromCurrency, toCurrency, amount }));
    case 'SubmitExchange':
      return fc
        .tuple(ledgerId, uniqueKey, twoOf(CURRENCIES), smallAmount)
        .map(([id, transactionId, [fromCurrency, toCurrency], amount]) => ({ ledgerId: id, transactionId, fromCurrency, toCurrency, amount }));
    case 'GetOperation':
    case 'CancelOperation':
    case 'WatchOperation':
      return fc.record({ operationId });
    case 'ListOperations':
      return fc.record(
        {
          ledgerId,
          status: fc.constantFrom('OPERATION_STATUS_PENDING', 'OPERATION_STATUS_COMPLETED', 'OPERATION_STATUS_FAILED'),
          kind: fc.constantFrom('OPERATION_KIND_TRANSACTION', 'OPERATION_KIND_TRANSFER', 'OPERATION_KIND_EXCHANGE'),
          pageSize,
        },
        { requiredKeys: [] },
      );
    default:
      throw new Error(`the fuzzer has no valid request for ${rpc.parent.typeName}/${rpc.name}: add one`);
  }
}

/** A field a corruption may hit: its path (as violations name it), its JSON key path and its descriptor. */
interface Target {
  readonly path: string;
  readonly keys: ReadonlyArray<string | number>;
  readonly field: DescField;
}

/** Every field of the request's message, and of the items already in its lists of messages. */
function targets(schema: DescMessage, json: Record<string, JsonValue>): Target[] {
  const found: Target[] = [];
  const walk = (desc: DescMessage, value: Record<string, JsonValue>, path: string, keys: ReadonlyArray<string | number>): void => {
    for (const field of desc.fields) {
      const fieldPath = path === '' ? field.name : `${path}.${field.name}`;
      found.push({ path: fieldPath, keys: [...keys, field.jsonName], field });
      const items = value[field.jsonName];
      if (field.fieldKind === 'list' && field.listKind === 'message' && Array.isArray(items)) {
        items.forEach((item, i) => walk(field.message, item as Record<string, JsonValue>, `${fieldPath}[${i}]`, [...keys, field.jsonName, i]));
      }
    }
  };
  walk(schema, json, '', []);
  return found;
}

/** A hostile value protobuf can carry, for a field of `field`'s kind. */
function typedValue(field: DescField): fc.Arbitrary<JsonValue> {
  const huge = (n: number) => fc.constant('x'.repeat(n));
  if (field.fieldKind === 'map') {
    return fc.oneof(
      fc.constant(Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, 'v']))),
      fc.constant({ '': 'empty key' }),
      fc.constant({ 'nul\u0000key': 'v' }),
      fc.constant({ k: 'x'.repeat(100_000) }),
    );
  }
  if (field.fieldKind === 'list') {
    if (field.listKind === 'message') return fc.constant([]);
    return fc.constantFrom<JsonValue>([], Array.from({ length: 10_000 }, () => 'USD'), ['USD', 'USD'], ['usd', '']);
  }
  if (field.fieldKind === 'enum') return fc.constantFrom(0, -1, 99, 2_147_483_647);
  if (field.fieldKind === 'message') return fc.constant({});
  switch (field.scalar) {
    case 3: // INT64
    case 18: // SINT64
    case 16: // SFIXED64
      return fc.constantFrom('9223372036854775807', '-9223372036854775808', '-1', '0', '1');
    case 5: // INT32
      return fc.constantFrom(2_147_483_647, -2_147_483_648, -1, 0, 1_000_000);
    case 8: // BOOL
      return fc.boolean();
    default: // strings (every request field Tally has is int64, int32, bool, enum or string)
      return fc.oneof(
        fc.constant(''),
        fc.constant('a\u0000b'),
        fc.constant(' padded '),
        fc.constant('\u202egnirts'),
        fc.constant('😀'.repeat(64)),
        fc.constant('../../etc/passwd'),
        fc.constant("'; drop table ledgers.ledger; --"),
        fc.constant('00000000-0000-0000-0000-000000000000'),
        fc.string({ unit: 'grapheme', maxLength: 64 }),
        huge(1_000),
        huge(100_000),
      );
  }
}

/** What only JSON can say wrong about a field. */
function jsonOnlyValue(field: DescField): fc.Arbitrary<JsonValue | RawNumber> {
  const wrongTypes = fc.constantFrom<JsonValue>(true, 1.5, [], {}, [1, 2], { nested: { deeper: [null] } }, 'text');
  const int64Text = fc.constantFrom<JsonValue | RawNumber>(
    ' 12',
    '+5',
    '0x10',
    '010',
    '1e3',
    '1.0',
    '9223372036854775808',
    '-9223372036854775809',
    '',
    'NaN',
    'Infinity',
    '١٢',
    new RawNumber('9007199254740993'),
    new RawNumber('1e400'),
    new RawNumber('-0'),
    1.5,
    -1e30,
  );
  const loneSurrogate = fc.constant<JsonValue>('a\ud800b');
  if (field.fieldKind === 'enum') return fc.oneof(fc.constantFrom<JsonValue>('NOT_A_VALUE', '', 'transaction_type_credit', 1.5, '1'), wrongTypes);
  if (field.fieldKind === 'scalar' && [3, 4, 5, 6, 7, 13, 15, 16, 17, 18].includes(field.scalar)) return fc.oneof(int64Text, wrongTypes);
  if (field.fieldKind === 'map') return fc.oneof(fc.constantFrom<JsonValue>([], 'text', { k: 1 }, { k: null }, { '\ud800': 'v' }), wrongTypes);
  if (field.fieldKind === 'list') return fc.oneof(fc.constantFrom<JsonValue>('USD', [null], [1], { 0: 'USD' }), wrongTypes);
  return fc.oneof(loneSurrogate, wrongTypes, fc.constant<JsonValue>(7));
}

/** A JSON number written as it is in the body (JSON.stringify cannot write 9007199254740993). */
export class RawNumber {
  constructor(readonly text: string) {}
}

function setAt(root: Record<string, JsonValue>, keys: ReadonlyArray<string | number>, value: unknown): Record<string, unknown> {
  const copy = structuredClone(root) as Record<string, unknown>;
  let node = copy as Record<string | number, unknown>;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[keys[keys.length - 1]!] = value;
  return copy;
}

/** JSON text with RawNumbers written as the numbers they hold. */
export function jsonText(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof RawNumber) {
      raws.push(v.text);
      return `\u0000raw${raws.length - 1}\u0000`;
    }
    return v;
  });
  return text.replace(/"\\u0000raw(\d+)\\u0000"/g, (_m, i: string) => raws[Number(i)]!);
}

/** Binary bodies broken below the message: truncated, flipped, foreign, or a string that is not UTF-8. */
function brokenWire(valid: Uint8Array): fc.Arbitrary<{ bytes: Uint8Array; label: string }> {
  return fc.oneof(
    fc.nat({ max: Math.max(0, valid.length - 1) }).map((n) => ({ bytes: valid.subarray(0, n), label: 'wire:truncated' })),
    fc.tuple(fc.nat({ max: Math.max(0, valid.length - 1) }), fc.integer({ min: 1, max: 255 })).map(([at, xor]) => {
      const bytes = Uint8Array.from(valid);
      if (bytes.length > 0) bytes[at] = bytes[at]! ^ xor;
      return { bytes, label: 'wire:flipped' };
    }),
    fc.uint8Array({ minLength: 1, maxLength: 256 }).map((bytes) => ({ bytes, label: 'wire:random' })),
    fc.constant({ bytes: Uint8Array.from([0x0a]), label: 'wire:truncated' }),
    fc.constant({ bytes: Uint8Array.from([0x02, 0x00]), label: 'wire:field-zero' }),
    fc.constant({ bytes: Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), label: 'wire:length-past-end' }),
    fc.constant({ bytes: Uint8Array.from([0x0b, 0x0c]), label: 'wire:group' }),
    // Field 1 (every request's first field is a string) holding bytes that are not UTF-8.
    fc.constant({ bytes: Uint8Array.from([0x0a, 0x03, 0x41, 0xff, 0x42, ...valid]), label: 'wire:not-utf8' }),
    fc.constant({ bytes: Uint8Array.from([0x0a, 0x02, 0xed, 0xa0, 0x80].slice(0, 4)), label: 'wire:not-utf8' }),
  );
}

/** A SubmitTransactions batch of `size` items (valid), some of them broken when `mixed`. */
function batch(f: Fixtures, size: number, mixed: boolean): fc.Arbitrary<{ value: unknown; brokenField?: string }> {
  return fc.tuple(fc.nat(), fc.nat({ max: size - 1 })).map(([seed, broken]) => {
    const transactions = Array.from({ length: size }, (_, i) => ({
      ledgerId: f.ledgerIds[i % f.ledgerIds.length],
      transactionId: `fz-batch-${seed}-${i}`,
      type: 'TRANSACTION_TYPE_CREDIT',
      amount: String(1 + (i % 100)),
      currency: CURRENCIES[i % CURRENCIES.length],
    }));
    if (!mixed) return { value: { transactions } };
    transactions[broken]!.amount = '-5';
    return { value: { transactions }, brokenField: `transactions[${broken}].amount` };
  });
}

/** One request to send: which RPC, over which transport, with what done to it. */
export function fuzzRequest(f: Fixtures): fc.Arbitrary<FuzzRequest> {
  return fc
    .tuple(fc.constantFrom(...RPCS), fc.constantFrom(...TRANSPORTS), fc.nat({ max: 99 }))
    .chain(([rpc, transport, dice]) => validRequest(rpc, f).chain((valid) => corrupt(rpc, transport, valid, dice, f)));
}

function corrupt(rpc: DescMethod, transport: Transport, valid: Record<string, JsonValue>, dice: number, f: Fixtures): fc.Arbitrary<FuzzRequest> {
  const binary = transport !== 'connect-json';
  const encode = (value: unknown): Uint8Array => toBinary(rpc.input, fromJson(rpc.input, value as JsonValue));
  const request = (body: Body, label: string, brokenField?: string): FuzzRequest => ({ rpc, transport, body, label, ...(brokenField === undefined ? {} : { brokenField }) });
  const asBody = (value: unknown): Body => (binary ? { kind: 'bytes', bytes: encode(value) } : { kind: 'json', value });

  // 15%: valid as it is.
  if (dice < 15) return fc.constant(request(asBody(valid), 'valid'));
  // 5%: batches of 1,001 and 100,000 items, or a valid-sized one with one bad item (SubmitTransactions only).
  if (dice < 20 && rpc.name === 'SubmitTransactions') {
    return fc.oneof(
      ...BATCH_SIZES.map((size) => batch(f, size, false).map(({ value }) => request(asBody(value), `batch:${size}`, 'transactions'))),
      batch(f, 50, true).map(({ value, brokenField }) => request(asBody(value), 'batch:mixed', brokenField)),
    );
  }
  // 15%: the body as a whole broken.
  if (dice < 35) {
    if (binary) return brokenWire(encode(valid)).map(({ bytes, label }) => request({ kind: 'bytes', bytes }, label, ''));
    return fc.oneof(
      fc.constant(request({ kind: 'text', text: '' }, 'json:empty', '')),
      fc.constant(request({ kind: 'text', text: jsonText(valid).slice(0, -1) }, 'json:truncated', '')),
      fc.constant(request({ kind: 'text', text: '[]' }, 'json:not-object', '')),
      fc.constant(request({ kind: 'text', text: 'null' }, 'json:not-object', '')),
      fc.string({ maxLength: 64 }).map((text) => request({ kind: 'text', text }, 'json:garbage', '')),
      fc.constant(request({ kind: 'bytes', bytes: Buffer.concat([Buffer.from('{"'), Buffer.from([0xff, 0xfe]), Buffer.from('":1}')]) }, 'json:not-utf8', '')),
      fc.constant(request({ kind: 'text', text: `${'['.repeat(5_000)}${']'.repeat(5_000)}` }, 'json:deep', '')),
    );
  }
  // 65%: one field broken.
  const fieldTargets = targets(rpc.input, valid);
  if (fieldTargets.length === 0) {
    // ListCurrencies has no field: an unknown key (JSON), an unknown field number (binary, read and ignored as protobuf says).
    if (binary) return fc.constant(request({ kind: 'bytes', bytes: Uint8Array.from([0xf8, 0x01, 0x01]) }, 'wire:unknown-field'));
    return fc.constant(request({ kind: 'json', value: { unexpected: 1 } }, 'json:unknown-key', 'unexpected'));
  }
  return fc.constantFrom(...fieldTargets).chain((target) => {
    const typed = typedValue(target.field).map((value) => request(asBody(setAt(valid, target.keys, value)), `typed:${target.field.fieldKind}`, target.path));
    if (binary) return typed;
    const jsonOnly = jsonOnlyValue(target.field).map((value) =>
      request({ kind: 'text', text: jsonText(setAt(valid, target.keys, value)) }, `json:${target.field.fieldKind}`, target.path),
    );
    const unknownKey = fc
      .constantFrom('overdraft', 'ledger_Id', 'amount ', '__proto__', 'constructor')
      .map((key) => request({ kind: 'text', text: jsonText({ ...valid, [key]: true }) }, 'json:unknown-key', key.trim() === key ? key : JSON.stringify(key)));
    return fc.oneof(typed, jsonOnly, jsonOnly, unknownKey);
  });
}
