import { OperationStatus, TransactionType, type Ledger, type Operation } from '@tally/client';
import { parseAmount } from '../amounts.js';
import type { ConsoleApp } from '../app.js';
import { field, h, select, setChoices, type Choice } from '../dom.js';
import { FieldProblems, onSubmit, say, warn } from '../forms.js';
import { money, outcomeText } from '../operation-text.js';
import { newTransactionId } from '../session.js';

/**
 * How long a form waits for its operation to end. The worker usually applies it within
 * milliseconds; past this the form stops waiting and the live list keeps following it.
 */
export const SUBMIT_WAIT_MS = 30_000;

/** The selected ledger's currencies, as options. */
export function currencyChoices(ledger: Ledger | undefined): Choice[] {
  return (ledger?.currencies ?? []).map((c) => ({ value: c, label: c }));
}

/** An amount field's value in minor units, or the problem said next to it. */
export function amountIn(app: ConsoleApp, text: string, currency: string): bigint {
  if (!currency) throw new FieldProblems({ currency: 'choose a currency' });
  const parsed = parseAmount(text, app.exponentOf(currency));
  if (!parsed.ok) throw new FieldProblems({ amount: parsed.problem });
  return parsed.minorUnits;
}

/** Says how a submitted operation ended, in its form; a failure goes in the alert. */
export function reportOutcome(form: HTMLFormElement, wording: string, op: Operation): void {
  say(form, '');
  if (op.status === OperationStatus.COMPLETED) say(form, outcomeText(wording, op));
  else warn(form, outcomeText(wording, op));
}

/** Credit or debit the selected ledger. */
export function transactionForm(app: ConsoleApp): HTMLFormElement {
  const currency = select('currency');
  const amount = h('input', { name: 'amount', inputmode: 'decimal', autocomplete: 'off', placeholder: '0.00' });
  const form = h(
    'form',
    { class: 'money-form', 'aria-labelledby': 'transaction-heading' },
    h('h3', { id: 'transaction-heading' }, 'Credit or debit'),
    h('div', { class: 'row' }, field('Currency', currency), field('Amount', amount)),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', value: 'credit' }, 'Credit'),
      h('button', { type: 'submit', value: 'debit', class: 'secondary' }, 'Debit'),
    ),
  );
  app.on('ledger-selected', () => setChoices(currency, currencyChoices(app.selected)));
  onSubmit(form, async (submitter) => {
    const ledger = app.selected;
    if (!ledger) throw new Error('no ledger is selected');
    const debit = submitter instanceof HTMLButtonElement && submitter.value === 'debit';
    const minorUnits = amountIn(app, amount.value, currency.value);
    const wording = `${debit ? 'Debit' : 'Credit'} ${money(minorUnits, currency.value, app.exponentOf(currency.value))}`;
    const transactionId = newTransactionId();
    app.rememberSubmission(transactionId, wording);
    say(form, `${wording}: submitted…`);
    const op = await app.tally.submitAndWait(
      {
        transaction: {
          ledgerId: ledger.id,
          transactionId,
          type: debit ? TransactionType.DEBIT : TransactionType.CREDIT,
          amount: minorUnits,
          currency: currency.value,
        },
      },
      { timeoutMs: SUBMIT_WAIT_MS },
    );
    app.emit('operation-seen', op);
    reportOutcome(form, wording, op);
  });
  return form;
}

/** Move money from the selected ledger to another one. */
export function transferForm(app: ConsoleApp): HTMLFormElement {
  const toLedger = select('to_ledger_id');
  const currency = select('currency');
  const amount = h('input', { name: 'amount', inputmode: 'decimal', autocomplete: 'off', placeholder: '0.00' });
  const form = h(
    'form',
    { class: 'money-form', 'aria-labelledby': 'transfer-heading' },
    h('h3', { id: 'transfer-heading' }, 'Transfer'),
    h('div', { class: 'row' }, field('To ledger', toLedger), field('Currency', currency), field('Amount', amount)),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Transfer')),
  );
  const redraw = () => {
    const others = app.ledgers.filter((l) => l.id !== app.selected?.id).map((l) => ({ value: l.id, label: l.name }));
    setChoices(toLedger, others, toLedger.value);
    setChoices(currency, currencyChoices(app.selected), currency.value);
  };
  app.on('ledger-selected', redraw);
  app.on('ledgers-changed', redraw);
  onSubmit(form, async () => {
    const ledger = app.selected;
    if (!ledger) throw new Error('no ledger is selected');
    if (!toLedger.value) throw new FieldProblems({ to_ledger_id: 'create or choose another ledger to send to' });
    const minorUnits = amountIn(app, amount.value, currency.value);
    const target = app.ledgers.find((l) => l.id === toLedger.value)?.name ?? toLedger.value;
    const wording = `Transfer ${money(minorUnits, currency.value, app.exponentOf(currency.value))} to ${target}`;
    const transactionId = newTransactionId();
    app.rememberSubmission(transactionId, wording);
    say(form, `${wording}: submitted…`);
    const op = await app.tally.submitAndWait(
      { transfer: { fromLedgerId: ledger.id, toLedgerId: toLedger.value, transactionId, currency: currency.value, amount: minorUnits } },
      { timeoutMs: SUBMIT_WAIT_MS },
    );
    app.emit('operation-seen', op);
    reportOutcome(form, wording, op);
  });
  return form;
}
