import type { Quote } from '@tally/client';
import type { ConsoleApp } from '../app.js';
import { dateOf, field, fill, h, select, setChoices, timeOf } from '../dom.js';
import { FieldProblems, clearProblems, onSubmit, say } from '../forms.js';
import { money } from '../operation-text.js';
import { newTransactionId } from '../session.js';
import { SUBMIT_WAIT_MS, amountIn, currencyChoices, reportOutcome } from './money-panel.js';

/** How often the quote's remaining time is redrawn. */
const COUNTDOWN_INTERVAL_MS = 1_000;

/**
 * Exchange between two currencies of the selected ledger in two steps: CreateQuote locks a
 * rate (shown with its expiry), then SubmitExchange converts at exactly that rate.
 */
export function exchangeForms(app: ConsoleApp): HTMLElement {
  const from = select('from_currency');
  const to = select('to_currency');
  const amount = h('input', { name: 'amount', inputmode: 'decimal', autocomplete: 'off', placeholder: '0.00' });
  const quoteForm = h(
    'form',
    { class: 'money-form', 'aria-labelledby': 'exchange-heading' },
    h('h3', { id: 'exchange-heading' }, 'Exchange'),
    h('div', { class: 'row' }, field('From', from), field('To', to), field('Amount', amount)),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Get a quote')),
  );

  const terms = h('dl', { class: 'quote-terms' });
  const expiry = h('p', { class: 'quote-expiry' });
  const discard = h('button', { type: 'button', class: 'quiet' }, 'Discard quote');
  const actions = h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Exchange at this rate'), discard);
  const confirmForm = h(
    'form',
    { class: 'quote', 'aria-labelledby': 'quote-heading', hidden: true },
    h('h4', { id: 'quote-heading' }, 'Quote'),
    terms,
    expiry,
    actions,
  );

  let quote: Quote | undefined;
  let countdown: ReturnType<typeof setInterval> | undefined;

  function showQuote(next: Quote | undefined): void {
    quote = next;
    clearInterval(countdown);
    countdown = undefined;
    confirmForm.hidden = !next;
    actions.hidden = false;
    if (!next) return;
    const fromExp = app.exponentOf(next.fromCurrency);
    const toExp = app.exponentOf(next.toCurrency);
    fill(
      terms,
      h('dt', {}, 'Rate'),
      h('dd', {}, `1 ${next.fromCurrency} = ${next.rate} ${next.toCurrency}`),
      h('dt', {}, 'You give'),
      h('dd', {}, money(next.fromAmount, next.fromCurrency, fromExp)),
      h('dt', {}, 'You get'),
      h('dd', {}, money(next.toAmount, next.toCurrency, toExp)),
    );
    const tick = () => {
      const leftMs = (dateOf(next.expireTime)?.getTime() ?? 0) - Date.now();
      expiry.textContent =
        leftMs > 0 ? `Locked until ${timeOf(next.expireTime)} (${Math.ceil(leftMs / 1000)} s left)` : `Expired at ${timeOf(next.expireTime)}: get a new quote.`;
      expiry.classList.toggle('expired', leftMs <= 0);
      if (leftMs <= 0) clearInterval(countdown);
    };
    tick();
    countdown = setInterval(tick, COUNTDOWN_INTERVAL_MS);
  }

  onSubmit(quoteForm, async () => {
    showQuote(undefined);
    clearProblems(confirmForm);
    if (from.value === to.value) throw new FieldProblems({ to_currency: 'choose a currency other than the one converted from' });
    const minorUnits = amountIn(app, amount.value, from.value);
    const answer = await app.tally.exchange.createQuote({ fromCurrency: from.value, toCurrency: to.value, amount: minorUnits });
    if (!answer.quote) throw new Error('CreateQuote answered without a quote');
    showQuote(answer.quote);
    confirmForm.querySelector<HTMLButtonElement>('button[type=submit]')?.focus();
  });

  onSubmit(confirmForm, async () => {
    const ledger = app.selected;
    const locked = quote;
    if (!ledger || !locked) throw new Error('no quote to exchange at');
    const wording = `Exchange ${money(locked.fromAmount, locked.fromCurrency, app.exponentOf(locked.fromCurrency))} to ${locked.toCurrency}`;
    const transactionId = newTransactionId();
    app.rememberSubmission(transactionId, wording);
    say(confirmForm, `${wording}: submitted…`);
    const op = await app.tally.submitAndWait(
      {
        exchange: {
          ledgerId: ledger.id,
          transactionId,
          fromCurrency: locked.fromCurrency,
          toCurrency: locked.toCurrency,
          amount: locked.fromAmount,
          quoteId: locked.id,
        },
      },
      { timeoutMs: SUBMIT_WAIT_MS },
    );
    app.emit('operation-seen', op);
    // A quote serves one exchange, whatever its outcome: only a new quote can be used now.
    clearInterval(countdown);
    quote = undefined;
    actions.hidden = true;
    expiry.textContent = 'This quote was used.';
    amount.focus();
    reportOutcome(confirmForm, wording, op);
  });

  discard.addEventListener('click', () => {
    showQuote(undefined);
    amount.focus();
  });

  app.on('ledger-selected', () => {
    showQuote(undefined);
    const choices = currencyChoices(app.selected);
    setChoices(from, choices);
    setChoices(to, choices, choices[1]?.value);
  });

  return h('div', { class: 'exchange' }, quoteForm, confirmForm);
}
