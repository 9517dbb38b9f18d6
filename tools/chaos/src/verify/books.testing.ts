import type { SubmitKind } from '../load/plan.js';
import type { QuoteUsed, SubmitOutcome, SubmitRecord } from '../load/record.js';
import type { Seen, SeenEntry, SeenOperation } from './seen.js';

/**
 * Books kept the way Tally promises to keep them, for the checks' tests: each submit is
 * acknowledged and applied at once, in the order written, by one client; a debit beyond the
 * balance fails INSUFFICIENT_FUNDS naming the balance it saw. Tests then break one promise
 * and expect the checks to say which.
 */
export class HonestBooks {
  readonly records: SubmitRecord[] = [];
  readonly operations = new Map<string, SeenOperation>();
  readonly entries = new Map<string, SeenEntry[]>();
  readonly #balances = new Map<string, Map<string, bigint>>();
  #entryId = 0n;
  #seq = 0;

  constructor(...ledgerIds: string[]) {
    for (const id of ledgerIds) {
      this.entries.set(id, []);
      this.#balances.set(id, new Map());
    }
  }

  credit(ledgerId: string, amount: bigint, currency = 'USD'): SubmitRecord {
    return this.#submit({ kind: 'CREDIT', ledgerId, currency, amount }, [{ ledgerId, currency, amount }]);
  }

  debit(ledgerId: string, amount: bigint, currency = 'USD'): SubmitRecord {
    return this.#submit({ kind: 'DEBIT', ledgerId, currency, amount }, [{ ledgerId, currency, amount: -amount }]);
  }

  transfer(ledgerId: string, toLedgerId: string, amount: bigint, currency = 'USD'): SubmitRecord {
    return this.#submit({ kind: 'TRANSFER', ledgerId, toLedgerId, currency, amount }, [
      { ledgerId, currency, amount: -amount },
      { ledgerId: toLedgerId, currency, amount },
    ]);
  }

  exchange(ledgerId: string, currency: string, toCurrency: string, amount: bigint, credited: bigint, quote?: QuoteUsed): SubmitRecord {
    return this.#submit({ kind: 'EXCHANGE', ledgerId, currency, toCurrency, amount, quote }, [
      { ledgerId, currency, amount: -amount },
      { ledgerId, currency: toCurrency, amount: credited },
    ]);
  }

  /** A submit answered with a refusal, and not recorded. */
  refused(ledgerId: string, code: string, reason: string, quote?: QuoteUsed): SubmitRecord {
    const record = this.#record({ kind: 'EXCHANGE', ledgerId, currency: 'USD', toCurrency: 'EUR', amount: 1n, quote }, { kind: 'refused', code, reason, message: reason });
    return record;
  }

  /** A submit the client gave up on; `recorded` says whether Tally had accepted it anyway. */
  gaveUp(ledgerId: string, amount: bigint, recorded: boolean): SubmitRecord {
    if (!recorded) return this.#record({ kind: 'CREDIT', ledgerId, currency: 'USD', amount }, { kind: 'gave-up', lastCode: 'UNAVAILABLE' });
    const record = this.credit(ledgerId, amount);
    const replaced = { ...record, outcome: { kind: 'gave-up', lastCode: 'UNAVAILABLE' } as const };
    this.records[this.records.indexOf(record)] = replaced;
    return replaced;
  }

  balance(ledgerId: string, currency = 'USD'): bigint {
    return this.#balances.get(ledgerId)!.get(currency) ?? 0n;
  }

  seen(): Seen {
    return { operations: this.operations, entries: this.entries, balances: this.#balances };
  }

  #submit(
    request: { kind: SubmitKind; ledgerId: string; toLedgerId?: string; currency: string; toCurrency?: string; amount: bigint; quote?: QuoteUsed },
    legs: Array<{ ledgerId: string; currency: string; amount: bigint }>,
  ): SubmitRecord {
    const operationId = `op-${this.#seq + 1}`;
    const record = this.#record(request, { kind: 'acknowledged', operationId, ledgerId: request.ledgerId, transactionId: `t${this.#seq + 1}` });
    const short = legs.find((l) => l.amount < 0n && this.balance(l.ledgerId, l.currency) + l.amount < 0n);
    const kind = request.kind === 'CREDIT' || request.kind === 'DEBIT' ? 'TRANSACTION' : request.kind;
    const base = { id: operationId, kind, ledgerId: request.ledgerId, toLedgerId: request.toLedgerId ?? '', transactionId: record.transactionId } as const;
    if (short) {
      const balance = this.balance(short.ledgerId, short.currency);
      this.operations.set(operationId, {
        ...base,
        status: 'FAILED',
        errorCode: 'INSUFFICIENT_FUNDS',
        errorDetails: { ledger_id: short.ledgerId, currency: short.currency, balance: balance.toString(), amount: (-short.amount).toString() },
        balanceChanges: [],
      });
      return record;
    }
    const changes = legs.map((leg) => {
      const after = this.balance(leg.ledgerId, leg.currency) + leg.amount;
      this.#balances.get(leg.ledgerId)!.set(leg.currency, after);
      this.entries.get(leg.ledgerId)!.push({ id: ++this.#entryId, ledgerId: leg.ledgerId, operationId, currency: leg.currency, amount: leg.amount, balanceAfter: after });
      return { ...leg, balanceAfter: after };
    });
    this.operations.set(operationId, { ...base, status: 'COMPLETED', errorCode: undefined, errorDetails: {}, balanceChanges: changes });
    return record;
  }

  #record(
    request: { kind: SubmitKind; ledgerId: string; toLedgerId?: string; currency: string; toCurrency?: string; amount: bigint; quote?: QuoteUsed },
    outcome: SubmitOutcome,
  ): SubmitRecord {
    this.#seq++;
    const { quote, ...plan } = request;
    const record: SubmitRecord = { ...plan, transactionId: `t${this.#seq}`, client: 0, clientSeq: this.#seq, quote, tries: 1, outcome };
    this.records.push(record);
    return record;
  }
}
