import { fromJson, ScalarType, type DescEnum, type DescField, type DescMessage, type JsonReadOptions, type JsonWriteOptions } from '@bufbuild/protobuf';
import { base64Decode } from '@bufbuild/protobuf/wire';
import type { ConnectError } from '@connectrpc/connect';
import { INT64_MAX, INT64_MIN, type FieldViolation } from '@tally/platform';
import { badRequest } from './errors.js';

/**
 * How the HTTP port reads a JSON request (Connect JSON, and gRPC or gRPC-Web with the JSON
 * codec): strictly, and naming the field of every problem.
 *
 * protobuf-es reads JSON leniently where money is concerned: an int64 may be any string
 * `Number()` accepts (`"0x10"` is 16, `" 12"` is 12, `"+5"` is 5) or any JSON number, rounded
 * to a double first (`9007199254740993` becomes `...992`). And its errors name a field only in
 * their text, without the path (`transactions[1].amount`) or a google.rpc.BadRequest. So before
 * protobuf-es reads the request, this pass walks the parsed JSON along the method's input
 * descriptor and refuses, with a BadRequest naming each field:
 *
 * - an integer field (int32 to uint64) holding anything but a JSON number that is a safe
 *   integer (|n| ≤ 2^53 - 1) or a decimal string `-?(0|[1-9][0-9]*)`, in its type's range;
 * - a key the message does not have (proto3 JSON lets servers ignore it; Tally refuses it, so a
 *   misspelt `"overdraft"` cannot silently create a ledger without overdraft);
 * - a value of the wrong JSON type, an enum name the enum does not have, null in a list or map,
 *   a oneof set twice, bytes that are not base64;
 * - a string that is not Unicode (a lone surrogate escape such as `"\ud800"`), and a body that
 *   is not UTF-8 or not JSON (these name no field: the field is empty, as Google's APIs do).
 *
 * What passes is what protobuf-es reads without error; its own reading then builds the message.
 * Connect exposes no hook between decompressing a body and parsing it other than the
 * serialization's `textDecoder`, so the pass runs there (`strictJsonOptions`).
 */

/** A refusal names at most this many fields: a 100,000-item batch does not answer 100,000. */
export const MAX_REPORTED_VIOLATIONS = 20;
/** Keys and values quoted in a violation are cut to this many characters. */
const MAX_QUOTED_CHARS = 70;

const DECIMAL_INTEGER = /^-?(0|[1-9][0-9]*)$/;
/** An unknown key named as it is when it reads as a field name; quoted otherwise. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,69}$/;
/** With the `u` flag a surrogate pair is one character, so this finds only lone surrogates. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const UINT32_MAX = 2 ** 32 - 1;
const UINT64_MAX = 2n ** 64n - 1n;
const FLOAT32_MAX = 3.4028234663852886e38;

type JsonOptions = Partial<JsonReadOptions & JsonWriteOptions>;

/**
 * Connect's JSON options for one method, with the strict pass hooked in as the text decoder it
 * reads request bodies with (`createJsonSerialization` in @connectrpc/connect; the router hands
 * `jsonOptions` to it as given). The decoder refuses bytes that are not UTF-8 instead of
 * replacing them with U+FFFD, then checks the JSON; it throws a ConnectError (INVALID_ARGUMENT
 * with a BadRequest), which Connect answers as it is.
 */
export function strictJsonOptions(input: DescMessage, base: JsonOptions): JsonOptions {
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const textDecoder = {
    decode(bytes: Uint8Array): string {
      let text: string;
      try {
        text = utf8.decode(bytes);
      } catch {
        throw badRequest('the request body is not UTF-8', [{ field: '', description: 'the request body is not valid UTF-8' }]);
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw badRequest(`the request body is not JSON: ${reason}`, [{ field: '', description: `is not JSON: ${reason}` }]);
      }
      const violations = jsonViolations(input, json);
      if (violations.length > 0) throw jsonRefusal(violations);
      return text;
    },
  };
  const options: JsonOptions & { textDecoder: typeof textDecoder } = { ...base, textDecoder };
  return options;
}

function jsonRefusal(violations: readonly FieldViolation[]): ConnectError {
  const summary = violations.map((v) => `${v.field}: ${v.description}`).join('; ');
  return badRequest(`invalid request: ${summary}`, violations);
}

/** Every problem (up to MAX_REPORTED_VIOLATIONS) that keeps `json` from being read strictly as `schema`. */
export function jsonViolations(schema: DescMessage, json: unknown): FieldViolation[] {
  const found: FieldViolation[] = [];
  const report = (field: string, description: string): void => {
    if (found.length < MAX_REPORTED_VIOLATIONS) found.push({ field, description });
  };
  const full = (): boolean => found.length >= MAX_REPORTED_VIOLATIONS;

  const message = (desc: DescMessage, value: unknown, path: string): void => {
    if (desc.typeName.startsWith('google.protobuf.')) return wellKnown(desc, value, path);
    if (!isObject(value)) return report(path, `must be a JSON object (${desc.typeName}), not ${jsonType(value)}`);
    const oneofs = new Map<string, string>();
    for (const [key, item] of Object.entries(value)) {
      if (full()) return;
      const field = desc.fields.find((f) => f.jsonName === key || f.name === key);
      if (field === undefined) {
        report(join(path, IDENTIFIER.test(key) ? key : quoteKey(key)), `is not a field of ${desc.typeName}`);
        continue;
      }
      const fieldPath = join(path, field.name);
      if (field.oneof !== undefined) {
        if (item === null && field.fieldKind === 'scalar') continue;
        const earlier = oneofs.get(field.oneof.name);
        if (earlier !== undefined) {
          report(fieldPath, `sets the oneof ${field.oneof.name}, already set by ${earlier}`);
          continue;
        }
        oneofs.set(field.oneof.name, field.name);
      }
      if (item === null && !(field.fieldKind === 'message' && field.message.typeName === 'google.protobuf.Value')) continue;
      fieldValue(field, item, fieldPath);
    }
  };

  const fieldValue = (field: DescField, value: unknown, path: string): void => {
    switch (field.fieldKind) {
      case 'scalar':
        return scalar(field.scalar, value, path);
      case 'enum':
        return enumValue(field.enum, value, path);
      case 'message':
        return message(field.message, value, path);
      case 'list':
        if (!Array.isArray(value)) return report(path, `must be a JSON array, not ${jsonType(value)}`);
        for (let i = 0; i < value.length && !full(); i++) {
          const itemPath = `${path}[${i}]`;
          const item: unknown = value[i];
          if (item === null) report(itemPath, 'must not be null');
          else if (field.listKind === 'scalar') scalar(field.scalar, item, itemPath);
          else if (field.listKind === 'enum') enumValue(field.enum, item, itemPath);
          else message(field.message, item, itemPath);
        }
        return;
      case 'map':
        if (!isObject(value)) return report(path, `must be a JSON object, not ${jsonType(value)}`);
        for (const [key, item] of Object.entries(value)) {
          if (full()) return;
          const itemPath = `${path}[${quoteKey(key)}]`;
          mapKey(field.mapKey, key, itemPath);
          if (item === null) report(itemPath, 'must not be null');
          else if (field.mapKind === 'scalar') scalar(field.scalar, item, itemPath);
          else if (field.mapKind === 'enum') enumValue(field.enum, item, itemPath);
          else message(field.message, item, itemPath);
        }
        return;
    }
  };

  const scalar = (type: ScalarType, value: unknown, path: string): void => {
    const problem = scalarProblem(type, value);
    if (problem !== undefined) report(path, problem);
  };

  const enumValue = (desc: DescEnum, value: unknown, path: string): void => {
    if (typeof value === 'number' && Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX) return;
    if (typeof value === 'string' && desc.values.some((v) => v.name === value)) return;
    const names = desc.values.map((v) => v.name).join(', ');
    report(path, `must be one of ${names} (or its number), not ${quote(value)}`);
  };

  const mapKey = (type: ScalarType, key: string, path: string): void => {
    if (type === ScalarType.BOOL) {
      if (key !== 'true' && key !== 'false') report(path, 'the key must be true or false');
      return;
    }
    if (type === ScalarType.STRING) {
      if (LONE_SURROGATE.test(key)) report(path, 'the key is not valid Unicode (a lone surrogate)');
      return;
    }
    const problem = scalarProblem(type, key);
    if (problem !== undefined) report(path, `the key ${problem}`);
  };

  const wellKnown = (desc: DescMessage, value: unknown, path: string): void => {
    try {
      fromJson(desc, value as never);
    } catch (error) {
      report(path, `is not a valid ${desc.typeName}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  message(schema, json, '');
  return found;
}

/** Why `value` is no JSON value of a field of `type`, or undefined if it is one. */
function scalarProblem(type: ScalarType, value: unknown): string | undefined {
  switch (type) {
    case ScalarType.STRING:
      if (typeof value !== 'string') return `must be a string, not ${jsonType(value)}`;
      return !LONE_SURROGATE.test(value) ? undefined : 'is not valid Unicode (a lone surrogate)';
    case ScalarType.BOOL:
      return typeof value === 'boolean' ? undefined : `must be true or false, not ${quote(value)}`;
    case ScalarType.BYTES:
      if (typeof value !== 'string') return `must be a base64 string, not ${jsonType(value)}`;
      try {
        base64Decode(value);
        return undefined;
      } catch {
        return 'must be base64';
      }
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return floatProblem(type, value);
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return integerProblem(value, INT64_MIN, INT64_MAX, 'int64');
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return integerProblem(value, 0n, UINT64_MAX, 'uint64');
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return integerProblem(value, 0n, BigInt(UINT32_MAX), 'uint32');
    default: // INT32, SINT32, SFIXED32
      return integerProblem(value, BigInt(INT32_MIN), BigInt(INT32_MAX), 'int32');
  }
}

/**
 * An integer is a JSON number that is a safe integer, or a decimal string: no sign but `-`,
 * no leading zeros, spaces, exponent, fraction or hexadecimal. Larger integers must be strings,
 * since a JSON number beyond 2^53 has already lost digits when it is read.
 */
function integerProblem(value: unknown, min: bigint, max: bigint, type: string): string | undefined {
  let n: bigint;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      return Number.isInteger(value)
        ? `must be written as a string beyond ±2^53-1: the JSON number ${quote(value)} loses digits`
        : `must be an integer, not ${quote(value)}`;
    }
    n = BigInt(value);
  } else if (typeof value === 'string') {
    if (!DECIMAL_INTEGER.test(value)) return `must be a decimal integer such as "-12" (no spaces, +, leading zeros, exponent or hex), not ${quote(value)}`;
    n = BigInt(value);
  } else {
    return `must be an integer (a JSON number or a decimal string), not ${jsonType(value)}`;
  }
  return n < min || n > max ? `is out of range for ${type} (${min} to ${max}): ${quote(value)}` : undefined;
}

function floatProblem(type: ScalarType, value: unknown): string | undefined {
  if (value === 'NaN' || value === 'Infinity' || value === '-Infinity') return undefined;
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && value !== '' && value.trim() === value) n = Number(value);
  else return `must be a number, not ${quote(value)}`;
  if (!Number.isFinite(n)) return `must be a finite number or "NaN", "Infinity", "-Infinity", not ${quote(value)}`;
  if (type === ScalarType.FLOAT && Math.abs(n) > FLOAT32_MAX) return `is out of range for float: ${quote(value)}`;
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${quote(value)}`;
}

function quote(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(JSON.stringify(value) ?? value);
  return text.length > MAX_QUOTED_CHARS ? `${text.slice(0, MAX_QUOTED_CHARS)}…` : text;
}

/** A key as a violation names it: quoted, cut, as checkMetadata names map entries. */
function quoteKey(key: string): string {
  return JSON.stringify(key.slice(0, MAX_QUOTED_CHARS));
}

function join(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}
