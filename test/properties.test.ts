import { Code, ConnectError } from '@connectrpc/connect';
import { ExchangeService, LedgerService, OperationService, TransactionType, type Quote } from '@tally/contracts';
import { conversion } from '@tally/currencies';
import { createLogger, loadConfig } from '@tally/platform';
import { startRatesMock, type Faults, type RatesMock } from '@tally/rates-mock';
import { audit, isClean } from '@tally/server';
import { openInfrastructure } from '@tally/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDetails } from './support/errors.js';
import { prng } from './support/model.js';
import {
  byOperation,
  describeAction,
  entryFindings,
  namedPairs,
  outcomeFindings,
  outcomeSummary,
  pairKey,
  refusalFindings,
  sumOf,
  type Action,
  type Book,
  type Run,
  type Sent,
  type Submission,
  type Toggle,
} from './support/property-outcomes.js';
import { settled } from './support/operations.js';
import { testSeed } from './support/seed.js';
import { isolatedEnv, startTestServer, type TestServer } from './support/server.js';

/**
 * Properties of the books under random load: transfers, exchanges, credits and debits among many
 * ledgers (in four partitions), with currencies disabled and enabled mid-run and the rate
 * provider failing, slow or down at random moments, end with every currency summing to zero,
 * every balance equal to its entries, and every operation ended in a way its kind allows.
 * Timing decides which outcome each operation gets; the properties hold whatever it decides.
 * The plan and the fault sequence follow from the seed: TALLY_TEST_SEED replays them.
 */
const { value: seed, replay } = testSeed();
const LEDGERS = 12;
const WAVES = 4;
const ACTIONS_PER_WAVE = 90;
const CURRENCIES = ['USD', 'EUR', 'JPY', 'BHD', 'GBP'] as const;
/** Minor units worth about one US dollar, so that amounts weigh alike in every currency. */
const DOLLAR: Readonly<Record<string, bigint>> = { USD: 100n, EUR: 100n, GBP: 100n, JPY: 151n, BHD: 376n };
/** More than all the money a run creates: no balance can pay it. */
const OVERSIZED_DOLLARS = 1_000_000_000n;
const CACHE_TTL_MS = 200;
const STALENESS_MS = 3_000;
const PROVIDER_TIMEOUT_MS = 250;
/** The fault phases; a latency beyond PROVIDER_TIMEOUT_MS makes every provider call time out. */
const FAULTS: ReadonlyArray<Partial<Faults>> = [{}, {}, { errorRate: 0.25 }, { errorRate: 0.5 }, { errorRate: 1 }, { latencyMs: 100 }, { latencyMs: 400 }, { outage: true }];
const SETTLE_PATIENCE_MS = 120_000;
const env = { ...isolatedEnv('properties', 11), TALLY_PARTITIONS: '4' };

let provider: RatesMock;
let t: TestServer;
beforeAll(async () => {
  provider = await startRatesMock({ port: 0 });
  t = await startTestServer({
    ...env,
    TALLY_RATES_URL: provider.url,
    TALLY_RATES_CACHE_TTL_MS: String(CACHE_TTL_MS),
    TALLY_RATES_MAX_STALENESS_MS: String(STALENESS_MS),
    TALLY_RATES_TIMEOUT_MS: String(PROVIDER_TIMEOUT_MS),
  });
});
afterAll(async () => {
  await t?.stop();
  await provider?.close();
});

const ledgerApi = () => t.connectClient(LedgerService);
const exchangeApi = () => t.connectClient(ExchangeService);
const operationApi = () => t.connectClient(OperationService);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe(`random transfers and exchanges among ${LEDGERS} ledgers, provider faults injected (${replay})`, () => {
  it('keep every currency summing to zero, every balance equal to its entries, every outcome one its kind allows', { timeout: 240_000 }, async () => {
    const random = prng(seed);
    const between = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
    const pick = <T>(items: readonly T[]): T => items[between(0, items.length - 1)]!;

    // Ledgers of 2 to 4 currencies, each funded with 1,000 to 10,000 dollars' worth.
    const books: Book[] = [];
    for (let i = 0; i < LEDGERS; i++) {
      const shuffled: string[] = [...CURRENCIES];
      for (let j = shuffled.length - 1; j > 0; j--) {
        const k = between(0, j);
        [shuffled[j], shuffled[k]] = [shuffled[k]!, shuffled[j]!];
      }
      const chosen = shuffled.slice(0, between(2, 4));
      const { ledger } = await ledgerApi().createLedger({ name: `property ${seed} #${i}`, currencies: chosen });
      books.push({ id: ledger!.id, currencies: chosen });
    }
    const funding = books.flatMap((book, ledger) =>
      book.currencies.map((currency): Submission => ({ kind: 'credit', ledger, currency, amount: DOLLAR[currency]! * BigInt(between(1_000, 10_000)), oversized: false })),
    );
    const sent: Sent[] = [];
    for (const [i, action] of funding.entries()) {
      sent.push({ action, label: `fund #${i} ${describeAction(action)}`, mustBeRefused: false, mayBeRefused: false, ...(await submit(books, action, `fund.${i}`)) });
    }

    // The provider's rates are fixed: every exchange must apply exactly them, even on stale rates.
    const usdRates: Record<string, string> = { USD: '1', ...((await (await fetch(`${provider.url}/v1/rates?base=USD`)).json()) as { rates: Record<string, string> }).rates };
    const rateOf = (from: string, to: string) =>
      conversion.formatRate(conversion.chainRates(conversion.invertRate(conversion.parseRate(usdRates[from]!)!), conversion.parseRate(usdRates[to]!)!), 12);
    for (const from of CURRENCIES) {
      for (const to of CURRENCIES.filter((c) => c !== from)) {
        expect((await exchangeApi().getRate({ fromCurrency: from, toCurrency: to })).rate?.rate, `${replay}: ${from}->${to}`).toBe(rateOf(from, to));
      }
    }

    const disabled = new Set<string>();
    const everDisabled = new Set<string>();
    const run: Run = { books, everDisabled, rateOf };
    const toggleFailures: string[] = [];

    // The provider changes its ways every 0.2 to 2 s while the waves go in, and a few times after.
    const faultRandom = prng(seed ^ 0x5eed);
    const faultsSeen: string[] = [];
    let submitting = true;
    const injecting = (async () => {
      for (let after = 0; submitting || after < 3; after += submitting ? 0 : 1) {
        const fault = FAULTS[Math.floor(faultRandom() * FAULTS.length)]!;
        provider.resetFaults();
        provider.setFaults(fault);
        faultsSeen.push(JSON.stringify(fault));
        await pause(200 + Math.floor(faultRandom() * 1_800));
      }
      provider.resetFaults();
    })();

    try {
      for (let wave = 0; wave < WAVES; wave++) {
        const actions = planWave();
        const togglingNow = new Set(actions.filter((a) => a.kind === 'toggle').map((a) => pairKey(a.ledger, a.currency)));
        await Promise.all(
          actions.map(async (action, i) => {
            if (action.kind === 'toggle') return toggle(action);
            const named = namedPairs(action);
            sent.push({
              action,
              label: `wave ${wave} #${i} ${describeAction(action)}`,
              mustBeRefused: named.some(([ledger, currency]) => !books[ledger]!.currencies.includes(currency)),
              mayBeRefused: named.some(([ledger, currency]) => disabled.has(pairKey(ledger, currency)) || togglingNow.has(pairKey(ledger, currency))),
              ...(await submit(books, action, `w${wave}.${i}`)),
            });
          }),
        );
        await pause(between(0, 400));
      }
    } finally {
      submitting = false;
      await injecting;
    }

    for (const s of sent) if (s.accepted) s.end = await settled((r) => operationApi().getOperation(r), s.accepted.id, SETTLE_PATIENCE_MS);
    const ended = sent.filter((s) => s.end);
    console.log(`properties (${replay}): ${outcomeSummary(sent)}; faults ${faultsSeen.join(' ')}`);

    // Each property is checked whatever became of the others, so that one run shows them all.
    expect.soft(toggleFailures, `${replay}: DisableCurrency / EnableCurrency`).toEqual([]);

    const infra = await openInfrastructure(loadConfig(env), createLogger('silent'));
    try {
      const report = await audit(infra);
      expect.soft(report, `${replay}: the audit`).toMatchObject({
        currenciesNotZero: [],
        accountsNotMatchingEntries: [],
        unbalancedPostings: [],
        transactionIdsBookedTwice: [],
        operationsWithWrongEffects: [],
        operationsLeftInTransit: [],
        inFlight: 0,
      });
      expect.soft(isClean(report), `${replay}: the audit is clean`).toBe(true);
    } finally {
      await infra.close();
    }

    expect.soft(sent.flatMap((s) => refusalFindings(s)), `${replay}: refused inside the request exactly when a currency it names is not enabled`).toEqual([]);
    expect.soft(ended.flatMap((s) => outcomeFindings(run, s)), `${replay}: each operation ends as its kind allows`).toEqual([]);

    // The client's view: each ledger's balances, entries, operations.
    const held = new Map<string, bigint>();
    for (const [index, book] of books.entries()) {
      const { balances } = await ledgerApi().getBalances({ ledgerId: book.id });
      expect.soft(balances.map((b) => b.currency), `${replay}: ledger #${index} lists every currency ever enabled`).toEqual([...book.currencies].sort());
      for (const b of balances) held.set(b.currency, (held.get(b.currency) ?? 0n) + b.amount);
      const entries = await allEntries(book.id);
      expect.soft(entryFindings(balances, entries), `${replay}: ledger #${index}: every balance equals its entries`).toEqual([]);
      // The entries are exactly the balance changes its operations report, balance_after included.
      const reported = ended.flatMap((s) => (s.end!.result?.balanceChanges ?? []).filter((c) => c.ledgerId === book.id).map((c) => ({ ...c, operationId: s.end!.id })));
      expect.soft(byOperation(entries), `${replay}: ledger #${index}: entries against the operations' balance changes`).toEqual(byOperation(reported));
      const listed = await allOperationIds(book.id);
      const sentHere = sent.filter((s) => s.accepted && (s.accepted.ledgerId === book.id || s.accepted.toLedgerId === book.id)).map((s) => s.accepted!.id);
      expect.soft(listed.sort(), `${replay}: ledger #${index} lists exactly the operations sent to it`).toEqual(sentHere.sort());
    }

    // Money is conserved: per currency, the ledgers hold what credits brought in, debits took
    // out and exchanges converted, as their results say; a transfer only moves money.
    const broughtIn = new Map<string, bigint>();
    for (const s of ended.filter((x) => x.action.kind !== 'transfer')) {
      for (const c of s.end!.result?.balanceChanges ?? []) broughtIn.set(c.currency, (broughtIn.get(c.currency) ?? 0n) + c.amount);
    }
    expect.soft(Object.fromEntries(held), `${replay}: money per currency`).toEqual(Object.fromEntries([...held.keys()].map((c) => [c, broughtIn.get(c) ?? 0n])));
    const transfersMakingMoney = ended.filter((s) => s.action.kind === 'transfer' && sumOf(s.end!.result?.balanceChanges ?? []) !== 0n).map((s) => s.label);
    expect.soft(transfersMakingMoney, `${replay}: transfers whose balance changes do not net to zero`).toEqual([]);

    /**
     * About 45% transfers (now and then to a ledger lacking the currency), 37% exchanges (half
     * quoted, now and then into a currency the ledger lacks), 15% debits and credits, 3% a
     * currency disabled or enabled again; 8% of amounts beyond any balance.
     */
    function planWave(): Action[] {
      const actions: Action[] = [];
      const toggled = new Set<string>();
      for (let i = 0; i < ACTIONS_PER_WAVE; i++) {
        const roll = random();
        const oversized = random() < 0.08;
        const amountOf = (currency: string, big = oversized) => DOLLAR[currency]! * (big ? OVERSIZED_DOLLARS : BigInt(between(5, 2_500)));
        const ledger = between(0, LEDGERS - 1);
        const currency = pick(books[ledger]!.currencies);
        if (roll < 0.45) {
          const targets = books.map((_, j) => j).filter((j) => j !== ledger && (books[j]!.currencies.includes(currency) || random() < 0.1));
          if (targets.length > 0) actions.push({ kind: 'transfer', from: ledger, to: pick(targets), currency, amount: amountOf(currency), oversized });
        } else if (roll < 0.82) {
          const to = random() < 0.04 ? pick(CURRENCIES.filter((c) => c !== currency)) : pick(books[ledger]!.currencies.filter((c) => c !== currency));
          actions.push({ kind: 'exchange', ledger, from: currency, to, amount: amountOf(currency), oversized, withQuote: random() < 0.5 });
        } else if (roll < 0.91) {
          actions.push({ kind: 'debit', ledger, currency, amount: amountOf(currency), oversized });
        } else if (roll < 0.97) {
          // Never an oversized credit: it would make the oversized amounts affordable.
          actions.push({ kind: 'credit', ledger, currency, amount: amountOf(currency, false), oversized: false });
        } else if (!toggled.has(pairKey(ledger, currency))) {
          // One change per currency and wave, so that the plan knows the state after each wave.
          const key = pairKey(ledger, currency);
          toggled.add(key);
          const enable = disabled.has(key);
          if (enable) disabled.delete(key);
          else disabled.add(key);
          everDisabled.add(key);
          actions.push({ kind: 'toggle', ledger, currency, enable, delayMs: between(0, 150) });
        }
      }
      return actions;
    }

    async function toggle(action: Toggle): Promise<void> {
      await pause(action.delayMs);
      const request = { ledgerId: books[action.ledger]!.id, currency: action.currency };
      const what = `${action.enable ? 'enable' : 'disable'} ${action.currency} on ledger #${action.ledger}`;
      try {
        const { ledger } = action.enable ? await ledgerApi().enableCurrency(request) : await ledgerApi().disableCurrency(request);
        if (ledger?.currencies.includes(action.currency) !== action.enable) toggleFailures.push(`${what}: the ledger then has ${ledger?.currencies.join(' ')}`);
      } catch (error) {
        if (!(error instanceof ConnectError)) throw error;
        toggleFailures.push(`${what}: ${Code[error.code]} ${error.rawMessage}`);
      }
    }
  });
});

async function submit(books: readonly Book[], action: Submission, transactionId: string): Promise<Pick<Sent, 'accepted' | 'refused' | 'quote'>> {
  try {
    switch (action.kind) {
      case 'transfer': {
        const req = { fromLedgerId: books[action.from]!.id, toLedgerId: books[action.to]!.id, transactionId, currency: action.currency, amount: action.amount };
        return { accepted: (await ledgerApi().submitTransfer(req)).operation };
      }
      case 'exchange': {
        const quote = action.withQuote ? await quoteFor(action) : undefined;
        const req = { ledgerId: books[action.ledger]!.id, transactionId, fromCurrency: action.from, toCurrency: action.to, amount: action.amount, quoteId: quote?.id ?? '' };
        return { quote, accepted: (await exchangeApi().submitExchange(req)).operation };
      }
      case 'credit':
      case 'debit': {
        const type = action.kind === 'credit' ? TransactionType.CREDIT : TransactionType.DEBIT;
        return { accepted: (await ledgerApi().submitTransaction({ ledgerId: books[action.ledger]!.id, transactionId, type, amount: action.amount, currency: action.currency })).operation };
      }
    }
  } catch (error) {
    if (error instanceof ConnectError) return { refused: error };
    throw error;
  }
}

/** A quote, or none while the provider has no recent enough rate: the exchange then goes without. */
async function quoteFor(action: Extract<Submission, { kind: 'exchange' }>): Promise<Quote | undefined> {
  try {
    return (await exchangeApi().createQuote({ fromCurrency: action.from, toCurrency: action.to, amount: action.amount })).quote;
  } catch (error) {
    if (error instanceof ConnectError && error.code === Code.Unavailable && connectDetails(error).errorInfo?.reason === 'RATES_UNAVAILABLE') return undefined;
    throw error;
  }
}

/** Every entry of a ledger, newest first, page by page. */
async function allEntries(ledgerId: string) {
  const entries = [];
  let pageToken = '';
  do {
    const page = await ledgerApi().listEntries({ ledgerId, pageSize: 500, pageToken });
    entries.push(...page.entries);
    pageToken = page.nextPageToken;
  } while (pageToken !== '');
  return entries;
}

async function allOperationIds(ledgerId: string): Promise<string[]> {
  const ids: string[] = [];
  let pageToken = '';
  do {
    const page = await operationApi().listOperations({ ledgerId, pageSize: 500, pageToken });
    ids.push(...page.operations.map((o) => o.id));
    pageToken = page.nextPageToken;
  } while (pageToken !== '');
  return ids;
}


