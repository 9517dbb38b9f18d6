// The README's picture of the web console: against a running Tally (`npm start`), creates a demo
// ledger with a few operations through the API (Connect JSON), opens /console in Debian's
// Chromium and saves docs/images/console.png at 1280x800.
//
//   node tools/console-screenshot.mjs [--url http://127.0.0.1:8080] [--out docs/images/console.png]
//
// Each run adds its own two demo ledgers (the newest are the ones shown).
// Needs the console built (`node apps/console/build.mjs`) and, for the exchange, the rate
// provider `npm start` runs. With TALLY_AUTH=required, pass a write-scoped key in TALLY_API_KEY.
/* global fetch */
import console from 'node:console';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import process from 'node:process';
import { setTimeout } from 'node:timers';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.TALLY_URL ?? 'http://127.0.0.1:8080' },
    out: { type: 'string', default: 'docs/images/console.png' },
  },
});
const baseUrl = values.url.replace(/\/$/, '');
const apiKey = process.env.TALLY_API_KEY;
/** How long an operation may take to end before the demo gives up on it. */
const SETTLE_TIMEOUT_MS = 15_000;
const SETTLE_POLL_MS = 100;
/** The README shows the console at this size. */
const VIEWPORT = { width: 1280, height: 800 };

/** One Connect unary call with JSON (int64 amounts as strings). */
async function rpc(method, body) {
  const response = await fetch(`${baseUrl}/tally.v1.${method}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'x-client-id': 'console-screenshot', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(`${method}: ${answer.code}: ${answer.message}`);
  return answer;
}

/** Waits until the operation is COMPLETED, FAILED or CANCELLED. */
async function settled(operation) {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (let op = operation; ; ) {
    if (['OPERATION_STATUS_COMPLETED', 'OPERATION_STATUS_FAILED', 'OPERATION_STATUS_CANCELLED'].includes(op.status)) return op;
    if (Date.now() > deadline) throw new Error(`operation ${op.id} still ${op.status} after ${SETTLE_TIMEOUT_MS} ms: is the worker running?`);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
    op = (await rpc('OperationService/GetOperation', { operationId: op.id })).operation;
  }
}

const run = Date.now().toString(36);
const { ledger: treasury } = await rpc('LedgerService/CreateLedger', { name: 'Acme Treasury', currencies: ['USD', 'EUR', 'GBP', 'JPY'] });
const { ledger: payroll } = await rpc('LedgerService/CreateLedger', { name: 'Acme Payroll', currencies: ['USD', 'EUR'] });
const submit = async (method, body) => settled((await rpc(method, { ...body, transactionId: `${run}-${method.split('/')[1]}-${Math.random().toString(36).slice(2)}` })).operation);
const credit = (currency, amount) => submit('LedgerService/SubmitTransaction', { ledgerId: treasury.id, type: 'TRANSACTION_TYPE_CREDIT', currency, amount });

await credit('USD', '1250000');
await credit('EUR', '420000');
await credit('JPY', '3500000');
await credit('GBP', '98050');
await submit('LedgerService/SubmitTransfer', { fromLedgerId: treasury.id, toLedgerId: payroll.id, currency: 'USD', amount: '325000' });
try {
  const { quote } = await rpc('ExchangeService/CreateQuote', { fromCurrency: 'USD', toCurrency: 'EUR', amount: '50000' });
  await submit('ExchangeService/SubmitExchange', { ledgerId: treasury.id, fromCurrency: 'USD', toCurrency: 'EUR', amount: '50000', quoteId: quote.id });
} catch (error) {
  console.warn(`no exchange in the picture (${error.message}): is the rate provider running?`);
}
await submit('LedgerService/SubmitTransaction', { ledgerId: treasury.id, type: 'TRANSACTION_TYPE_DEBIT', currency: 'GBP', amount: '250000' });

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: VIEWPORT, deviceScaleFactor: 1 });
  // In the page: the console reads its key from this tab's sessionStorage.
  if (apiKey) await page.addInitScript((key) => globalThis.sessionStorage.setItem('tally.console.apiKey', key), apiKey);
  await page.goto(`${baseUrl}/console`);
  await page.getByRole('button', { name: /^Acme Treasury/ }).last().click();
  await page.getByRole('region', { name: 'Live operations' }).getByRole('status').filter({ hasText: 'Live' }).waitFor();
  await page.getByRole('region', { name: 'Balances of Acme Treasury' }).getByRole('row', { name: /^USD / }).waitFor();
  await page.getByRole('region', { name: 'Live operations' }).getByRole('listitem').filter({ hasText: 'FAILED' }).waitFor();
  await page.getByRole('region', { name: 'Balances of Acme Treasury' }).getByLabel('Total in').selectOption('EUR');
  await page.getByRole('region', { name: 'Balances of Acme Treasury' }).getByText(/EUR$/).first().waitFor();
  await page.getByRole('form', { name: 'Transfer' }).getByLabel('To ledger').selectOption(payroll.id);
  // A quote on screen, to show the locked rate and its expiry.
  const exchange = page.getByRole('form', { name: 'Exchange' });
  await exchange.getByRole('textbox', { name: 'Amount' }).fill('250');
  await exchange.getByRole('button', { name: 'Get a quote' }).click();
  await page.getByRole('form', { name: 'Quote' }).getByText(/s left/).waitFor();
  await page.mouse.move(0, 0);
  await page.locator(':focus').blur();
  await page.evaluate(() => globalThis.scrollTo(0, 0));
  await mkdir(dirname(values.out), { recursive: true });
  await page.screenshot({ path: values.out });
  console.log(`saved ${values.out} (${VIEWPORT.width}x${VIEWPORT.height}) from ${baseUrl}/console`);
} finally {
  await browser.close();
}
