import { chromium, type Browser } from 'playwright-core';
import { existsSync } from 'node:fs';

/**
 * Debian's Chromium, driven by playwright-core: no browser is ever downloaded.
 * tools/ensure-browser.sh installs it when it is missing (`npm test` runs that first).
 */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Headless, nothing reaching out on its own (updates, sync, QUIC probes), no GPU. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A Chromium with a fresh user data directory of its own (playwright makes one per launch). */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`no Chromium at ${CHROMIUM_PATH}: run tools/ensure-browser.sh (Debian's chromium package)`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}
