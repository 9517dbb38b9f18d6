import type { Currency, Ledger, Operation } from '@tally/client';
import { connectToTally, storedApiKey, storeApiKey, type Tally } from './session.js';

/**
 * What the panels share: the client, the currency catalogue, the ledgers and which one is
 * selected. Panels talk through its events, never to each other.
 */
export interface ConsoleEvents {
  /** A new client (the API key changed): the catalogue is read again. */
  'client-changed': undefined;
  /** The catalogue is read with the current client: panels (re)load what they show. */
  ready: undefined;
  /** The list of known ledgers changed. */
  'ledgers-changed': undefined;
  /** Another ledger is selected (or none). */
  'ledger-selected': undefined;
  /** An operation was seen outside the live stream (a submit's answer). */
  'operation-seen': Operation;
  /** Money moved on the selected ledger: balances should be read again. */
  'balances-stale': undefined;
}

/** How many submissions the console remembers the wording of (what the live list shows). */
const MAX_REMEMBERED_SUBMISSIONS = 200;

export class ConsoleApp {
  private readonly events = new EventTarget();
  tally: Tally;
  apiKey: string | undefined;
  /** Every supported currency by code, from ListCurrencies. */
  catalogue = new Map<string, Currency>();
  ledgers: Ledger[] = [];
  selected: Ledger | undefined;
  /** What was asked for, by transaction id, for operations submitted from this page. */
  private readonly submissions = new Map<string, string>();

  constructor() {
    this.apiKey = storedApiKey();
    this.tally = connectToTally(this.apiKey);
  }

  on<K extends keyof ConsoleEvents>(name: K, listener: (detail: ConsoleEvents[K]) => void): void {
    this.events.addEventListener(name, (event) => listener((event as CustomEvent<ConsoleEvents[K]>).detail));
  }

  emit<K extends keyof ConsoleEvents>(name: K, ...detail: ConsoleEvents[K] extends undefined ? [] : [ConsoleEvents[K]]): void {
    this.events.dispatchEvent(new CustomEvent(name, { detail: detail[0] }));
  }

  useApiKey(apiKey: string | undefined): void {
    storeApiKey(apiKey);
    this.apiKey = apiKey;
    this.tally = connectToTally(apiKey);
    this.emit('client-changed');
  }

  /** The exponent of a currency; a code outside the catalogue is a bug, said loudly. */
  exponentOf(code: string): number {
    const currency = this.catalogue.get(code);
    if (!currency) throw new Error(`currency ${code} is not in the catalogue`);
    return currency.exponent;
  }

  setLedgers(ledgers: Ledger[]): void {
    this.ledgers = ledgers;
    if (this.selected) this.selected = ledgers.find((l) => l.id === this.selected!.id) ?? this.selected;
    this.emit('ledgers-changed');
  }

  /** Adds or replaces one ledger (a new one, or one read again). */
  putLedger(ledger: Ledger): void {
    const at = this.ledgers.findIndex((l) => l.id === ledger.id);
    this.setLedgers(at >= 0 ? this.ledgers.map((l, i) => (i === at ? ledger : l)) : [...this.ledgers, ledger]);
  }

  select(ledger: Ledger | undefined): void {
    if (ledger?.id === this.selected?.id) return;
    this.selected = ledger;
    this.emit('ledger-selected');
  }

  rememberSubmission(transactionId: string, wording: string): void {
    this.submissions.set(transactionId, wording);
    if (this.submissions.size > MAX_REMEMBERED_SUBMISSIONS) {
      this.submissions.delete(this.submissions.keys().next().value!);
    }
  }

  submissionWording(transactionId: string): string | undefined {
    return this.submissions.get(transactionId);
  }
}
