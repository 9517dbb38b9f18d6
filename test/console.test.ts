import { LedgerService, TransactionType } from '@tally/contracts';
import { startRatesMock, type RatesMock } from '@tally/rates-mock';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { launchChromium } from './support/browser.js';
import { startTestServer, type TestServer } from './support/server.js';

/**
 * The web console in a real browser (Debian's Chromium), served by Tally at /console and
 * calling it over Connect: what a person sees after each action, without reloading the page.
 */
const CONSOLE_DIST = fileURLToPath(new URL('../apps/console/dist/', import.meta.url));
const CONSOLE_BUILD = fileURLToPath(new URL('../apps/console/build.mjs', import.meta.url));

/** `npm test` builds every project first; alone, this suite builds the console when it is missing. */
function ensureConsoleBuilt(): void {
  if (existsSync(`${CONSOLE_DIST}index.html`)) return;
  try {
    execFileSync(process.execPath, [CONSOLE_BUILD], { stdio: 'pipe' });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? String(error);
    throw new Error(`the console is not built and \`node apps/console/build.mjs\` failed:\n${stderr}`);
  }
}

/** How long one step waits for what it expects to appear (the worker applies in milliseconds). */
const UI_WAIT_MS = 10_000;

let failures = 0;
let provider: RatesMock;
let t: TestServer;
let browser: Browser;

beforeAll(async () => {
  ensureConsoleBuilt();
  provider = await startRatesMock({ port: 0 });
  t = await startTestServer({ TALLY_RATES_URL: provider.url });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await t?.stop();
  await provider?.close();
});

interface OpenConsole {
  readonly page: Page;
  /** Failures the page itself reported (uncaught errors, console errors such as CSP refusals). */
  readonly pageErrors: string[];
  /** True while the page has not been reloaded or navigated since it opened. */
  stillSamePage(): Promise<boolean>;
}

async function openConsole(): Promise<OpenConsole> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  // A wait that fails says which element it waited for, before the test's own timeout.
  page.setDefaultTimeout(UI_WAIT_MS);
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  // Console errors such as CSP refusals; a refused call's HTTP status is logged too, and is no failure of the page.
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) pageErrors.push(message.text());
  });
  // What the page looked like when a test failed: tmp/console-failure-<n>.png.
  onTestFailed(async () => {
    failures += 1;
    await page.screenshot({ path: `tmp/console-failure-${failures}.png`, fullPage: true }).catch(() => undefined);
  });
  await page.goto(`${t.httpUrl}/console`);
  await page.getByRole('heading', { name: 'Tally console' }).waitFor();
  // A mark on this document: a reload or a navigation would lose it.
  await page.evaluate(() => Object.assign(globalThis, { consoleTestMark: true }));
  return {
    page,
    pageErrors,
    stillSamePage: () => page.evaluate(() => (globalThis as { consoleTestMark?: boolean }).consoleTestMark === true),
  };
}

/** Creates a ledger through the form, by keyboard only, and waits until it is the selected one. */
async function createLedgerByKeyboard(page: Page, name: string, currencies: string): Promise<void> {
  const form = page.getByRole('form', { name: 'New ledger' });
  await form.getByRole('textbox', { name: 'Name' }).focus();
  await page.keyboard.type(name);
  await page.keyboard.press('Tab');
  await page.keyboard.type(currencies);
  await page.keyboard.press('Enter');
  await page.getByRole('button', { name: new RegExp(`^${name}`), pressed: true }).waitFor();
}

const region = (page: Page, name: string | RegExp): Locator => page.getByRole('region', { name });
const liveOperation = (page: Page, ...texts: string[]): Locator =>
  texts.reduce((items, text) => items.filter({ hasText: text }), region(page, 'Live operations').getByRole('listitem'));

describe('the web console', () => {
  it('creates a ledger, credits it, and shows the balance and the operation change without a reload', async () => {
    const { page, pageErrors, stillSamePage } = await openConsole();
    const name = `Console ${randomUUID().slice(0, 8)}`;
    await createLedgerByKeyboard(page, name, 'usd, eur');
    const balances = region(page, `Balances of ${name}`);
    await balances.getByRole('row', { name: 'USD 0.00' }).waitFor();
    await balances.getByRole('row', { name: 'EUR 0.00' }).waitFor();

    const form = page.getByRole('form', { name: 'Credit or debit' });
    await form.getByLabel('Currency').selectOption('USD');
    await form.getByRole('textbox', { name: 'Amount' }).fill('10.50');
    await form.getByRole('button', { name: 'Credit', exact: true }).click();

    await balances.getByRole('row', { name: 'USD 10.50' }).waitFor();
    await liveOperation(page, 'Credit 10.50 USD', 'COMPLETED').waitFor();
    await form.getByRole('status').filter({ hasText: 'Credit 10.50 USD: completed.' }).waitFor();
    expect(await stillSamePage()).toBe(true);
    expect(pageErrors).toEqual([]);
  });

  it('shows money moved by another client as it happens (WatchLedger), balances included', async () => {
    const { page, pageErrors, stillSamePage } = await openConsole();
    const name = `Watched ${randomUUID().slice(0, 8)}`;
    await createLedgerByKeyboard(page, name, 'JPY');
    const balances = region(page, `Balances of ${name}`);
    await balances.getByRole('row', { name: 'JPY 0' }).waitFor();
    await region(page, 'Live operations').getByRole('status').filter({ hasText: 'Live' }).waitFor();

    // Another client credits the ledger, by the id the page shows.
    const ledgerId = (await balances.getByText('Ledger id').locator('code').textContent()) ?? '';
    expect(ledgerId).toMatch(/^[0-9a-f-]{36}$/);
    await t.connectClient(LedgerService).submitTransaction({ ledgerId, transactionId: `outside-${randomUUID()}`, type: TransactionType.CREDIT, amount: 1_500n, currency: 'JPY' });

    await balances.getByRole('row', { name: 'JPY 1,500' }).waitFor();
    await liveOperation(page, 'Credit 1,500 JPY', 'COMPLETED').waitFor();
    expect(await stillSamePage()).toBe(true);
    expect(pageErrors).toEqual([]);
  });

  it('says why a debit over the balance FAILED, in the form and in the live list; the balance stays', async () => {
    const { page, pageErrors } = await openConsole();
    const name = `Debited ${randomUUID().slice(0, 8)}`;
    await createLedgerByKeyboard(page, name, 'USD');
    const form = page.getByRole('form', { name: 'Credit or debit' });
    await form.getByRole('textbox', { name: 'Amount' }).fill('10.50');
    await form.getByRole('button', { name: 'Credit', exact: true }).click();
    const balances = region(page, `Balances of ${name}`);
    await balances.getByRole('row', { name: 'USD 10.50' }).waitFor();

    // By keyboard: the amount, then Tab past Credit to Debit, then Enter.
    await form.getByRole('textbox', { name: 'Amount' }).fill('100');
    await form.getByRole('textbox', { name: 'Amount' }).focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await expect.poll(() => page.locator(':focus').textContent()).toBe('Debit');
    await page.keyboard.press('Enter');

    const alert = form.getByRole('alert');
    await alert.filter({ hasText: 'Debit 100.00 USD failed: INSUFFICIENT_FUNDS' }).waitFor();
    await liveOperation(page, 'Debit 100.00 USD', 'FAILED', 'INSUFFICIENT_FUNDS').waitFor();
    expect(await balances.getByRole('row', { name: /^USD / }).textContent()).toBe('USD10.50');
    expect(pageErrors).toEqual([]);
  });

  it('shows a refused request readably, with each violation next to the field it names', async () => {
    const { page, pageErrors } = await openConsole();
    const form = page.getByRole('form', { name: 'New ledger' });
    await form.getByRole('textbox', { name: 'Name' }).fill('Refused');
    await form.getByRole('textbox', { name: 'Currencies' }).fill('USD XYZ');
    await form.getByRole('button', { name: 'Create ledger' }).click();

    await form.getByRole('alert').filter({ hasText: 'INVALID_ARGUMENT' }).waitFor();
    const currencies = form.getByRole('textbox', { name: 'Currencies' });
    await expect.poll(() => currencies.getAttribute('aria-invalid')).toBe('true');
    // The violation is part of the field's accessible description, and the field has the focus.
    const describedBy = (await currencies.getAttribute('aria-describedby'))?.split(' ') ?? [];
    const description = (await Promise.all(describedBy.map((id) => page.locator(`[id="${id}"]`).textContent()))).join(' ');
    expect(description).toContain('currencies[1]');
    expect(description).toContain('XYZ');
    expect(await page.locator(':focus').getAttribute('name')).toBe('currencies');
    expect(pageErrors).toEqual([]);
  });

  it('exchanges at a quoted rate: the locked rate and expiry first, then the exchange and both balances', async () => {
    const { page, pageErrors } = await openConsole();
    const name = `Exchanged ${randomUUID().slice(0, 8)}`;
    await createLedgerByKeyboard(page, name, 'USD EUR');
    const credit = page.getByRole('form', { name: 'Credit or debit' });
    await credit.getByRole('textbox', { name: 'Amount' }).fill('20');
    await credit.getByRole('button', { name: 'Credit', exact: true }).click();
    const balances = region(page, `Balances of ${name}`);
    await balances.getByRole('row', { name: 'USD 20.00' }).waitFor();

    const exchange = page.getByRole('form', { name: 'Exchange' });
    await exchange.getByLabel('From').selectOption('USD');
    await exchange.getByLabel('To').selectOption('EUR');
    await exchange.getByRole('textbox', { name: 'Amount' }).fill('5');
    await exchange.getByRole('button', { name: 'Get a quote' }).click();

    const quote = page.getByRole('form', { name: 'Quote' });
    await quote.getByText(/^1 USD = [0-9.]+ EUR$/).waitFor();
    await quote.getByText(/Locked until .* s left/).waitFor();
    await quote.getByRole('button', { name: 'Exchange at this rate' }).click();

    await liveOperation(page, 'Exchange 5.00 USD to EUR', 'COMPLETED', 'RATE_LOCKED', 'TARGET_CREDITED').waitFor();
    await balances.getByRole('row', { name: 'USD 15.00' }).waitFor();
    await expect.poll(async () => balances.getByRole('row', { name: /^EUR / }).textContent()).not.toBe('EUR0.00');
    expect(pageErrors).toEqual([]);
  });
});
