import type { Ledger } from '@tally/client';
import type { ConsoleApp } from '../app.js';
import { field, fill, h } from '../dom.js';
import { onSubmit, say, showFailure } from '../forms.js';

/** Ledgers read per ListLedgers page ("Show more" reads the next). */
const LEDGER_PAGE_SIZE = 100;

/** The ledgers (oldest first, as ListLedgers reads them) and the form that creates one. */
export function ledgersPanel(app: ConsoleApp): HTMLElement {
  const list = h('ul', { class: 'ledger-list', 'aria-labelledby': 'ledgers-heading' });
  const empty = h('p', { class: 'empty' }, 'No ledgers yet: create one below.');
  const more = h('button', { type: 'button', class: 'quiet', hidden: true }, 'Show more ledgers');
  const loadProblem = h('div', { role: 'alert', class: 'form-alert' });
  let nextPageToken = '';

  async function load(pageToken: string): Promise<void> {
    fill(loadProblem);
    try {
      const page = await app.tally.ledgers.listLedgers({ pageSize: LEDGER_PAGE_SIZE, pageToken });
      nextPageToken = page.nextPageToken;
      const known = pageToken ? app.ledgers : [];
      app.setLedgers([...known, ...page.ledgers.filter((l) => !known.some((k) => k.id === l.id))]);
      if (!app.selected && app.ledgers.length > 0) app.select(app.ledgers[0]);
    } catch (error) {
      showFailure(loadProblem, error);
    }
  }

  function draw(): void {
    empty.hidden = app.ledgers.length > 0;
    more.hidden = nextPageToken === '';
    fill(list, ...app.ledgers.map((ledger) => ledgerItem(app, ledger)));
    list.querySelector('[aria-pressed="true"]')?.scrollIntoView({ block: 'nearest' });
  }

  more.addEventListener('click', () => void load(nextPageToken));
  app.on('ledgers-changed', draw);
  app.on('ledger-selected', draw);
  app.on('ready', () => {
    app.select(undefined);
    void load('');
  });

  return h(
    'section',
    { class: 'panel ledgers', 'aria-labelledby': 'ledgers-heading' },
    h('h2', { id: 'ledgers-heading' }, 'Ledgers'),
    loadProblem,
    empty,
    list,
    more,
    createLedgerForm(app),
  );
}

function ledgerItem(app: ConsoleApp, ledger: Ledger): HTMLLIElement {
  const selected = app.selected?.id === ledger.id;
  const button = h(
    'button',
    { type: 'button', class: 'ledger', 'aria-pressed': String(selected) },
    h('span', { class: 'ledger-name' }, ledger.name),
    h('span', { class: 'ledger-meta' }, ledger.currencies.join(' · ') + (ledger.overdraftAllowed ? ' · overdraft' : '')),
  );
  button.addEventListener('click', () => app.select(ledger));
  return h('li', {}, button);
}

function createLedgerForm(app: ConsoleApp): HTMLFormElement {
  const name = h('input', { name: 'name', required: true, maxlength: 200, autocomplete: 'off' });
  const currencies = h('input', { name: 'currencies', required: true, autocomplete: 'off', spellcheck: 'false', placeholder: 'USD, EUR, JPY' });
  const overdraft = h('input', { type: 'checkbox', name: 'overdraft_allowed' });
  overdraft.id = 'create-overdraft';
  const form = h(
    'form',
    { class: 'create-ledger', 'aria-labelledby': 'create-ledger-heading' },
    h('h3', { id: 'create-ledger-heading' }, 'New ledger'),
    field('Name', name),
    field('Currencies', currencies, 'ISO 4217 codes, separated by commas or spaces'),
    h('div', { class: 'field checkbox' }, overdraft, h('label', { for: overdraft.id }, 'Allow overdraft')),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Create ledger')),
  );
  onSubmit(form, async () => {
    const codes = currencies.value
      .split(/[\s,]+/)
      .filter((c) => c !== '')
      .map((c) => c.toUpperCase());
    const { ledger } = await app.tally.ledgers.createLedger({ name: name.value, currencies: codes, overdraftAllowed: overdraft.checked });
    if (!ledger) throw new Error('CreateLedger answered without a ledger');
    app.putLedger(ledger);
    app.select(ledger);
    form.reset();
    say(form, `Created ledger "${ledger.name}".`);
  });
  return form;
}
