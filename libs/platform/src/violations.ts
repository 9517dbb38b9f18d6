import { invalidArgument, type FieldViolation } from './errors.js';

/**
 * Collects every bad field of a request so that one answer names them all, instead of
 * failing on the first.
 */
export class Violations {
  private readonly list: FieldViolation[] = [];

  add(field: string, description: string): this {
    this.list.push({ field, description });
    return this;
  }

  /** Records a violation unless `ok` holds; returns `ok` so checks can be chained. */
  check(ok: boolean, field: string, description: string): boolean {
    if (!ok) this.add(field, description);
    return ok;
  }

  get isEmpty(): boolean {
    return this.list.length === 0;
  }

  get all(): readonly FieldViolation[] {
    return this.list;
  }

  /** Throws INVALID_ARGUMENT naming every recorded violation, if there is any. */
  throwIfAny(): void {
    if (this.list.length > 0) throw invalidArgument(this.list);
  }
}

/** Length in Unicode code points, so that a limit means characters, not UTF-16 units. */
export function codePointLength(value: string): number {
  let n = 0;
  for (const _ of value) n++;
  return n;
}

export function checkText(
  v: Violations,
  field: string,
  value: string,
  limits: { minChars: number; maxChars: number },
): boolean {
  const length = codePointLength(value);
  if (length < limits.minChars) {
    v.add(field, limits.minChars === 1 ? 'must not be empty' : `must have at least ${limits.minChars} characters`);
    return false;
  }
  if (length > limits.maxChars) {
    v.add(field, `must have at most ${limits.maxChars} characters (got ${length})`);
    return false;
  }
  // Control characters in names break logs and terminals; refuse them.
  // eslint-disable-next-line no-control-regex
  return v.check(!/[\u0000-\u001f\u007f]/.test(value), field, 'must not contain control characters');
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}

export function checkUuid(v: Violations, field: string, value: string): boolean {
  if (value === '') return v.check(false, field, 'is required');
  return v.check(isUuid(value), field, 'must be a lowercase UUID, for example 0193f5a2-7c1e-7b3a-9f00-2b6c4d8e1a55');
}

/** Client-chosen keys (transaction ids, request ids): 1-128 of `A-Z a-z 0-9 - _ . :`. */
export const CLIENT_KEY_MAX_CHARS = 128;
const CLIENT_KEY_PATTERN = /^[A-Za-z0-9._:-]+$/;

export function checkClientKey(v: Violations, field: string, value: string): boolean {
  if (value === '') return v.check(false, field, 'is required');
  if (!v.check(value.length <= CLIENT_KEY_MAX_CHARS, field, `must have at most ${CLIENT_KEY_MAX_CHARS} characters`)) {
    return false;
  }
  return v.check(CLIENT_KEY_PATTERN.test(value), field, 'may only contain letters, digits, "-", "_", "." and ":"');
}

/** Free-form labels on requests: bounded in entries and sizes. */
export const MAX_METADATA_ENTRIES = 16;
export const MAX_METADATA_KEY_CHARS = 64;
export const MAX_METADATA_VALUE_CHARS = 256;

/** Checks metadata limits; returns it with keys sorted (a canonical form to record and compare). */
export function checkMetadata(v: Violations, field: string, metadata: Readonly<Record<string, string>>): Record<string, string> {
  const keys = Object.keys(metadata).sort();
  if (!v.check(keys.length <= MAX_METADATA_ENTRIES, field, `must have at most ${MAX_METADATA_ENTRIES} entries`)) return {};
  for (const key of keys) {
    const name = `${field}[${JSON.stringify(key.slice(0, 70))}]`;
    checkText(v, name, key, { minChars: 1, maxChars: MAX_METADATA_KEY_CHARS });
    checkText(v, name, metadata[key]!, { minChars: 0, maxChars: MAX_METADATA_VALUE_CHARS });
  }
  return Object.fromEntries(keys.map((k) => [k, metadata[k]!]));
}
