/**
 * What a failed call says, in words a person reads next to the form that made it: the
 * server's message, its reason (ErrorInfo) and each field violation (BadRequest) placed by the
 * field it names. Pure: it reads the fields TallyError decodes and nothing else.
 */

/** The parts of a TallyError the console shows (ConnectError's `code` is a number). */
export interface RefusalLike {
  readonly code: number;
  readonly rawMessage: string;
  readonly reason?: string | undefined;
  readonly violations?: ReadonlyArray<{ readonly field: string; readonly description: string }> | undefined;
  readonly requestId?: string | undefined;
}

export interface Refusal {
  /** One line: what went wrong, for the form's alert. */
  readonly summary: string;
  /** The server's request id, to quote when asking an operator. */
  readonly requestId: string | undefined;
  /** Violations by form field (the proto field, its index dropped: `currencies[1]` → `currencies`). */
  readonly byField: ReadonlyMap<string, readonly string[]>;
}

/** gRPC status codes by number, as the API's documentation names them. */
const CODE_NAMES: readonly string[] = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

export function codeName(code: number): string {
  return CODE_NAMES[code] ?? `code ${code}`;
}

/** The form field a violation belongs to: `currencies[1]` → `currencies`, `a.b` → `a`. */
export function fieldOf(path: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*/.exec(path)?.[0] ?? path;
}

export function describeRefusal(error: RefusalLike): Refusal {
  const byField = new Map<string, string[]>();
  for (const v of error.violations ?? []) {
    const field = fieldOf(v.field);
    const said = v.field === field ? v.description : `${v.field}: ${v.description}`;
    byField.set(field, [...(byField.get(field) ?? []), said]);
  }
  const reason = error.reason ? ` (${error.reason})` : '';
  const message = error.rawMessage.trim() || 'no message';
  return { summary: `${codeName(error.code)}${reason}: ${message}`, requestId: error.requestId || undefined, byField };
}
