import type { GetBalancesResponse } from '@tally/client';
import { formatMinorUnits } from '../amounts.js';
import type { ConsoleApp } from '../app.js';
import { fill, h, select, setChoices } from '../dom.js';
import { showFailure } from '../forms.js';

/**
 * The selected ledger's balance in every currency, and their total converted into a currency
 * the person chooses (GetBalances with convert_to). Read again whenever money moves.
 */
export function balancesPanel(app: ConsoleApp): HTMLElement {
  const heading = h('h2', { id: 'balances-heading' }, 'Balances');
  const ledgerId = h('code', {});
  const identity = h('p', { class: 'ledger-id' }, 'Ledger id ', ledgerId);
  const rows = h('tbody', {});
  const table = h(
    'table',
    { class: 'balances' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Currency'), h('th', { scope: 'col', class: 'num' }, 'Balance'))),
    rows,
  );
  const convertTo = select('convert_to');
  convertTo.id = 'convert-to';
  const total = h('output', { class: 'total', for: convertTo.id, 'aria-live': 'polite' });
  const rates = h('p', { class: 'rates' });
  const problem = h('div', { role: 'alert', class: 'form-alert' });
  const totalLine = h('div', { class: 'total-line' }, h('label', { for: convertTo.id }, 'Total in'), convertTo, total);

  /** One read at a time; a change meanwhile asks for one more read after it. */
  let reading: Promise<void> | undefined;
  let again = false;

  function refresh(): void {
    if (reading) {
      again = true;
      return;
    }
    reading = read().finally(() => {
      reading = undefined;
      if (again) {
        again = false;
        refresh();
      }
    });
  }

  async function read(): Promise<void> {
    const ledger = app.selected;
    if (!ledger) return;
    const target = convertTo.value || ledger.currencies[0] || '';
    let answer: GetBalancesResponse;
    let totalProblem: unknown;
    try {
      answer = await app.tally.ledgers.getBalances({ ledgerId: ledger.id, convertTo: target });
    } catch (error) {
      // No rate (the provider is down) must not hide the balances themselves.
      totalProblem = error;
      try {
        answer = await app.tally.ledgers.getBalances({ ledgerId: ledger.id });
      } catch (plainError) {
        if (app.selected?.id === ledger.id) showFailure(problem, plainError);
        return;
      }
    }
    if (app.selected?.id !== ledger.id) return; // another ledger was chosen meanwhile
    fill(problem);
    fill(
      rows,
      ...answer.balances.map((b) =>
        h(
          'tr',
          { class: b.amount < 0n ? 'negative' : undefined },
          h('th', { scope: 'row' }, b.currency),
          h('td', { class: 'num' }, formatMinorUnits(b.amount, b.exponent)),
        ),
      ),
    );
    const converted = answer.convertedTotal;
    if (converted) {
      total.textContent = `${formatMinorUnits(converted.amount, converted.exponent)} ${converted.currency}`;
      rates.textContent = converted.rates.length > 0 ? `at ${converted.rates.map((r) => `1 ${r.fromCurrency} = ${r.rate} ${r.toCurrency}`).join(', ')}` : '';
    } else {
      total.textContent = 'not available';
      rates.textContent = '';
      if (totalProblem) showFailure(problem, totalProblem);
    }
  }

  function drawLedger(): void {
    const ledger = app.selected;
    heading.textContent = ledger ? `Balances of ${ledger.name}` : 'Balances';
    ledgerId.textContent = ledger?.id ?? '';
    fill(rows);
    total.textContent = '';
    rates.textContent = '';
    fill(problem);
    const codes = [...app.catalogue.keys()];
    const preferred = ledger?.currencies[0] ?? 'USD';
    setChoices(convertTo, codes.map((c) => ({ value: c, label: c })), preferred);
    if (ledger) refresh();
  }

  convertTo.addEventListener('change', refresh);
  app.on('ledger-selected', drawLedger);
  app.on('balances-stale', refresh);

  const section = h(
    'section',
    { class: 'panel balances-panel', 'aria-labelledby': 'balances-heading' },
    heading,
    identity,
    table,
    totalLine,
    rates,
    problem,
  );
  return section;
}
