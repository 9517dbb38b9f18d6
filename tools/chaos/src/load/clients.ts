import { ExchangeService, LedgerService, TransactionType, type Operation } from '@tally/contracts';
import type { Random } from '../random.js';
import { sleep } from '../processes/child.js';
import { callFailure, GrpcChannel } from './grpc.js';
import { BelievedBalances, CURRENCIES, planSubmit, type PlannedSubmit } from './plan.js';
import type { QuoteUsed, SubmitOutcome, SubmitRecord } from './record.js';
import { backoffMs, isUnanswered, RETRY_POLICY } from './retry.js';

/**
 * The load: `clients` concurrent clients, each over a gRPC channel of its own, each owning a
 * share of the ledgers and submitting to them one at a time, so that the order in which a
 * ledger's submits were acknowledged is the order in which Tally accepted them. Together they
 * keep to `ratePerS` submits per second while nothing fails; a client stuck retrying does not
 * make up for lost time afterwards.
 */

/** A submit's deadline; past it the client retries (Tally's own request timeout is 10 s). */
const SUBMIT_DEADLINE_MS = 5_000;
const QUOTE_DEADLINE_MS = 3_000;
const SETUP_DEADLINE_MS = 5_000;

export interface LoadCounts {
  readonly submitted: number;
  readonly acknowledged: number;
  readonly refused: number;
  readonly gaveUp: number;
  /** Tries that got no answer, by gRPC status. */
  readonly unansweredTries: ReadonlyMap<string, number>;
  /** Exchanges that wanted a quote and went without (CreateQuote failed). */
  readonly quotesUnavailable: number;
}

export class ChaosLoad {
  readonly records: SubmitRecord[] = [];
  readonly #address: string;
  readonly #ledgers: readonly string[];
  readonly #clients: number;
  readonly #intervalMs: number;
  readonly #random: Random;
  readonly #believed = new BelievedBalances();
  readonly #unanswered = new Map<string, number>();
  #quotesUnavailable = 0;
  #submitted = 0;
  #stopping = false;
  #running: Promise<void>[] = [];

  constructor(address: string, ledgers: readonly string[], clients: number, ratePerS: number, random: Random) {
    this.#address = address;
    this.#ledgers = ledgers;
    this.#clients = clients;
    this.#intervalMs = (clients * 1_000) / ratePerS;
    this.#random = random;
  }

  start(): void {
    this.#running = Array.from({ length: this.#clients }, (_, client) => {
      const owned = this.#ledgers.filter((_, i) => i % this.#clients === client);
      return this.#runClient(client, owned, this.#random.fork());
    });
  }

  /** No new submits; resolves once every client's submit in hand is answered or given up. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all(this.#running);
  }

  counts(): LoadCounts {
    let acknowledged = 0;
    let refused = 0;
    let gaveUp = 0;
    for (const r of this.records) {
      if (r.outcome.kind === 'acknowledged') acknowledged++;
      else if (r.outcome.kind === 'refused') refused++;
      else gaveUp++;
    }
    return { submitted: this.#submitted, acknowledged, refused, gaveUp, unansweredTries: this.#unanswered, quotesUnavailable: this.#quotesUnavailable };
  }

  async #runClient(client: number, owned: readonly string[], random: Random): Promise<void> {
    const channel = new GrpcChannel(this.#address);
    let seq = 0;
    let nextAt = Date.now() + random.next() * this.#intervalMs;
    try {
      while (!this.#stopping) {
        const wait = nextAt - Date.now();
        if (wait > 0) await sleep(wait);
        if (this.#stopping) break;
        nextAt = Math.max(nextAt + this.#intervalMs, Date.now());
        seq++;
        const plan = planSubmit(random, random.pick(owned), this.#ledgers, this.#believed, `c${client}-${seq}`);
        this.#submitted++;
        const quote = plan.wantsQuote ? await this.#quote(channel, plan) : undefined;
        const { outcome, tries } = await this.#submitUntilAnswered(channel, plan, quote, random);
        this.records.push({ ...plan, client, clientSeq: seq, quote, tries, outcome });
        if (outcome.kind === 'acknowledged') this.#believed.acknowledge(plan, quote?.toAmount);
      }
    } finally {
      channel.close();
    }
  }

  async #quote(channel: GrpcChannel, plan: PlannedSubmit): Promise<QuoteUsed | undefined> {
    try {
      const { quote } = await channel.unary(
        ExchangeService.method.createQuote,
        { fromCurrency: plan.currency, toCurrency: plan.toCurrency!, amount: plan.amount },
        QUOTE_DEADLINE_MS,
      );
      if (!quote) throw new Error('CreateQuote answered no quote');
      return { id: quote.id, toAmount: quote.toAmount };
    } catch {
      // No quote (the provider is cut, Tally is restarting): the exchange goes at the current rate.
      this.#quotesUnavailable++;
      return undefined;
    }
  }

  async #submitUntilAnswered(channel: GrpcChannel, plan: PlannedSubmit, quote: QuoteUsed | undefined, random: Random): Promise<{ outcome: SubmitOutcome; tries: number }> {
    const firstTryAt = Date.now();
    for (let tries = 1; ; tries++) {
      try {
        const operation = await submit(channel, plan, quote);
        return {
          outcome: { kind: 'acknowledged', operationId: operation.id, ledgerId: operation.ledgerId, transactionId: operation.transactionId },
          tries,
        };
      } catch (error) {
        const failure = callFailure(error);
        if (!isUnanswered(failure.code)) {
          return { outcome: { kind: 'refused', code: failure.code, reason: failure.reason, message: failure.message }, tries };
        }
        this.#unanswered.set(failure.code, (this.#unanswered.get(failure.code) ?? 0) + 1);
        if (Date.now() - firstTryAt > RETRY_POLICY.giveUpAfterMs) return { outcome: { kind: 'gave-up', lastCode: failure.code }, tries };
        await sleep(backoffMs(tries, random));
      }
    }
  }
}

async function submit(channel: GrpcChannel, plan: PlannedSubmit, quote: QuoteUsed | undefined): Promise<Operation> {
  let operation: Operation | undefined;
  switch (plan.kind) {
    case 'CREDIT':
    case 'DEBIT':
      ({ operation } = await channel.unary(
        LedgerService.method.submitTransaction,
        {
          ledgerId: plan.ledgerId,
          transactionId: plan.transactionId,
          type: plan.kind === 'CREDIT' ? TransactionType.CREDIT : TransactionType.DEBIT,
          amount: plan.amount,
          currency: plan.currency,
        },
        SUBMIT_DEADLINE_MS,
      ));
      break;
    case 'TRANSFER':
      ({ operation } = await channel.unary(
        LedgerService.method.submitTransfer,
        { fromLedgerId: plan.ledgerId, toLedgerId: plan.toLedgerId!, transactionId: plan.transactionId, currency: plan.currency, amount: plan.amount },
        SUBMIT_DEADLINE_MS,
      ));
      break;
    case 'EXCHANGE':
      ({ operation } = await channel.unary(
        ExchangeService.method.submitExchange,
        {
          ledgerId: plan.ledgerId,
          transactionId: plan.transactionId,
          fromCurrency: plan.currency,
          toCurrency: plan.toCurrency!,
          amount: plan.amount,
          quoteId: quote?.id ?? '',
        },
        SUBMIT_DEADLINE_MS,
      ));
      break;
  }
  if (!operation) throw Object.assign(new Error('an acknowledgement without its operation'), { code: 13 });
  return operation;
}

/** The run's ledgers (USD, EUR, JPY, no overdraft), each created once whatever the retries (request ids). */
export async function createLedgers(address: string, count: number, runTag: string, random: Random): Promise<string[]> {
  const channel = new GrpcChannel(address);
  try {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      for (let tries = 1; ; tries++) {
        try {
          const { ledger } = await channel.unary(
            LedgerService.method.createLedger,
            { name: `chaos ${i}`, currencies: [...CURRENCIES], requestId: `${runTag}-ledger-${i}` },
            SETUP_DEADLINE_MS,
          );
          ids.push(ledger!.id);
          break;
        } catch (error) {
          const failure = callFailure(error);
          if (!isUnanswered(failure.code) || tries >= 50) throw new Error(`CreateLedger failed: ${failure.code} ${failure.message}`);
          await sleep(backoffMs(tries, random));
        }
      }
    }
    return ids;
  } finally {
    channel.close();
  }
}
