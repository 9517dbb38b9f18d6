import { ConsoleApp } from './app.js';
import { fill, h } from './dom.js';
import { showFailure } from './forms.js';
import { activityPanel } from './panels/activity-panel.js';
import { authForm } from './panels/auth-panel.js';
import { balancesPanel } from './panels/balances-panel.js';
import { exchangeForms } from './panels/exchange-panel.js';
import { ledgersPanel } from './panels/ledgers-panel.js';
import { transactionForm, transferForm } from './panels/money-panel.js';

/**
 * Tally's web console: a page served by Tally itself at /console, calling the same origin
 * over the Connect protocol through @tally/client.
 */
const app = new ConsoleApp();
const startProblem = h('div', { class: 'form-alert banner', role: 'alert' });
const noLedger = h('p', { class: 'empty' }, 'Choose or create a ledger to see its balances and move money.');
const ledgerView = h(
  'div',
  { class: 'ledger-view', hidden: true },
  h('div', { class: 'column' }, balancesPanel(app), activityPanel(app)),
  h(
    'section',
    { class: 'panel column', 'aria-labelledby': 'move-heading' },
    h('h2', { id: 'move-heading' }, 'Move money'),
    h('div', { class: 'forms' }, transactionForm(app), transferForm(app), exchangeForms(app)),
  ),
);

document.body.append(
  h('a', { class: 'skip-link', href: '#main' }, 'Skip to content'),
  h('header', { class: 'top' }, h('h1', {}, h('span', { class: 'logo', 'aria-hidden': 'true' }, '≡'), 'Tally console'), authForm(app)),
  startProblem,
  h('main', { id: 'main', tabindex: '-1' }, ledgersPanel(app), h('div', { class: 'workspace' }, noLedger, ledgerView)),
);

app.on('ledger-selected', () => {
  ledgerView.hidden = !app.selected;
  noLedger.hidden = Boolean(app.selected);
});

/** The catalogue first: every amount on the page is formatted with its currency's exponent. */
async function start(): Promise<void> {
  fill(startProblem);
  try {
    const { currencies } = await app.tally.exchange.listCurrencies({});
    app.catalogue = new Map(currencies.map((c) => [c.code, c]));
    app.emit('ready');
  } catch (error) {
    showFailure(startProblem, error);
  }
}

app.on('client-changed', () => void start());
void start();
