import type { DescMessage, DescMethodUnary, MessageInitShape, MessageShape } from '@bufbuild/protobuf';
import { LedgerService, OperationKind, OperationService, OperationStatus, type Operation } from '@tally/contracts';
import { sleep } from '../processes/child.js';
import { callFailure, GrpcChannel } from '../load/grpc.js';
import { isUnanswered } from '../load/retry.js';
import type { Seen, SeenEntry, SeenKind, SeenOperation, SeenStatus } from './seen.js';

/**
 * Reading the books back through Tally's API once the run is over, as a client would: every
 * operation on each ledger (ListOperations), every entry (ListEntries), the balances
 * (GetBalances). And the wait for everything accepted to end.
 */

const PAGE_SIZE = 500;
const READ_DEADLINE_MS = 30_000;
/** The stack is whole again when reads start, but a read may still meet a reconnecting channel. */
const READ_TRIES = 20;
const READ_RETRY_PAUSE_MS = 500;
const SETTLE_POLL_MS = 500;

export class BooksReader {
  readonly #channel: GrpcChannel;

  constructor(address: string) {
    this.#channel = new GrpcChannel(address);
  }

  close(): void {
    this.#channel.close();
  }

  /** Operations still PENDING or PROCESSING, over every ledger (at most one page of each). */
  async inFlight(): Promise<number> {
    let n = 0;
    for (const status of [OperationStatus.PENDING, OperationStatus.PROCESSING]) {
      const page = await this.#read(OperationService.method.listOperations, { status, pageSize: PAGE_SIZE });
      n += page.operations.length;
    }
    return n;
  }

  /** Polls until nothing is in flight; resolves with the time it took, or undefined when patience ran out. */
  async settle(patienceMs: number): Promise<{ tookMs: number | undefined; inFlight: number }> {
    const startedAt = Date.now();
    for (;;) {
      const inFlight = await this.inFlight();
      if (inFlight === 0) return { tookMs: Date.now() - startedAt, inFlight };
      if (Date.now() - startedAt > patienceMs) return { tookMs: undefined, inFlight };
      await sleep(SETTLE_POLL_MS);
    }
  }

  async readAll(ledgerIds: readonly string[]): Promise<Seen> {
    const operations = new Map<string, SeenOperation>();
    const entries = new Map<string, SeenEntry[]>();
    const balances = new Map<string, Map<string, bigint>>();
    for (const ledgerId of ledgerIds) {
      for (let token = ''; ; ) {
        const page = await this.#read(OperationService.method.listOperations, { ledgerId, pageSize: PAGE_SIZE, pageToken: token });
        // A transfer is listed on both its ledgers: once is enough.
        for (const op of page.operations) operations.set(op.id, seenOperation(op));
        token = page.nextPageToken;
        if (token === '') break;
      }
      const ledgerEntries: SeenEntry[] = [];
      for (let token = ''; ; ) {
        const page = await this.#read(LedgerService.method.listEntries, { ledgerId, pageSize: PAGE_SIZE, pageToken: token });
        for (const e of page.entries) {
          ledgerEntries.push({ id: BigInt(e.id), ledgerId: e.ledgerId, operationId: e.operationId, currency: e.currency, amount: e.amount, balanceAfter: e.balanceAfter });
        }
        token = page.nextPageToken;
        if (token === '') break;
      }
      entries.set(ledgerId, ledgerEntries.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
      const { balances: list } = await this.#read(LedgerService.method.getBalances, { ledgerId });
      balances.set(ledgerId, new Map(list.map((b) => [b.currency, b.amount])));
    }
    return { operations, entries, balances };
  }

  async #read<I extends DescMessage, O extends DescMessage>(method: DescMethodUnary<I, O>, request: MessageInitShape<I>): Promise<MessageShape<O>> {
    for (let tries = 1; ; tries++) {
      try {
        return await this.#channel.unary(method, request, READ_DEADLINE_MS);
      } catch (error) {
        const failure = callFailure(error);
        if (!isUnanswered(failure.code) || tries >= READ_TRIES) throw new Error(`${method.name} failed: ${failure.code} ${failure.message}`);
        await sleep(READ_RETRY_PAUSE_MS);
      }
    }
  }
}

export function seenOperation(op: Operation): SeenOperation {
  return {
    id: op.id,
    kind: (OperationKind[op.kind] ?? 'UNSPECIFIED') as SeenKind,
    status: (OperationStatus[op.status] ?? 'UNSPECIFIED') as SeenStatus,
    ledgerId: op.ledgerId,
    toLedgerId: op.toLedgerId,
    transactionId: op.transactionId,
    errorCode: op.error?.code,
    errorDetails: { ...(op.error?.details ?? {}) },
    balanceChanges: (op.result?.balanceChanges ?? []).map((c) => ({ ledgerId: c.ledgerId, currency: c.currency, amount: c.amount, balanceAfter: c.balanceAfter })),
  };
}
