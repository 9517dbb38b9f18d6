import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import { checkPageSize, checkUuid, isInt64Digits, tenantQueryPart, Violations, type PageTokens } from '@tally/platform';
import { toOperation } from './operation-store.js';
import { OperationEntity, type OperationRow } from './schema.js';
import type { OperationStatus } from './status.js';
import type { ListOperationsInput, Operation } from './types.js';

export function validateOperationId(operationId: string): string {
  const v = new Violations();
  checkUuid(v, 'operation_id', operationId);
  v.throwIfAny();
  return operationId;
}

/** Rows whose visible status is `status` (a later stage waiting in its partition shows PROCESSING). */
function statusFilter(status: OperationStatus): FilterQuery<OperationRow> {
  if (status === 'PENDING') return { status, stage: 0 };
  if (status === 'PROCESSING') return { $or: [{ status }, { status: 'PENDING', stage: { $gt: 0 } }] };
  return { status };
}

/** Newest first (by acceptance order), filtered by ledger (either ledger of a transfer), status and kind. */
export async function listOperations(
  em: EntityManager,
  tokens: PageTokens,
  input: ListOperationsInput,
): Promise<{ items: Operation[]; nextPageToken: string }> {
  const v = new Violations();
  if (input.ledgerId !== '') checkUuid(v, 'ledger_id', input.ledgerId);
  const pageSize = checkPageSize(v, input.pageSize);
  const query = `operations:${tenantQueryPart(input.scope)}:${input.ledgerId}:${input.status ?? ''}:${input.kind ?? ''}`;
  const before = tokens.decode(v, query, input.pageToken, isInt64Digits);
  v.throwIfAny();
  const filters: Array<FilterQuery<OperationRow>> = [
    { prunedTime: null },
    // Another tenant's operations are not there at all, also on a ledger id the caller guessed.
    ...(input.scope.tenant === null ? [] : [{ tenant: input.scope.tenant }]),
    ...(input.status === null ? [] : [statusFilter(input.status)]),
    ...(input.kind === null ? [] : [{ kind: input.kind }]),
    ...(before === undefined ? [] : [{ seq: { $lt: before } }]),
  ];
  const page = (where: FilterQuery<OperationRow>) =>
    em.find(OperationEntity, { $and: [...filters, where] }, { orderBy: { seq: 'desc' }, limit: pageSize + 1 });
  // A transfer is on both its ledgers. Two queries, each walking its own index newest first, merged:
  // one query with an OR would read and sort every operation the ledger ever had, for each page.
  const rows =
    input.ledgerId === ''
      ? await page({})
      : [...(await page({ ledgerId: input.ledgerId })), ...(await page({ toLedgerId: input.ledgerId }))]
          .sort((a, b) => (BigInt(b.seq) > BigInt(a.seq) ? 1 : -1))
          .slice(0, pageSize + 1);
  const pageRows = rows.slice(0, pageSize);
  const last = pageRows.at(-1);
  return {
    items: pageRows.map(toOperation),
    nextPageToken: rows.length > pageSize && last ? tokens.encode(query, last.seq) : '',
  };
}
