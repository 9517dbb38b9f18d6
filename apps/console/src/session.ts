import { createTallyClient } from '@tally/client';

/** The typed client the whole console calls Tally with. */
export type Tally = ReturnType<typeof createTallyClient>;

/** Where the API key lives: this tab only, gone when it closes (never localStorage). */
const API_KEY_STORAGE_KEY = 'tally.console.apiKey';
/** Names the console in Tally's logs and traces. */
const CLIENT_ID = 'tally-console';

export function storedApiKey(): string | undefined {
  return sessionStorage.getItem(API_KEY_STORAGE_KEY) || undefined;
}

export function storeApiKey(apiKey: string | undefined): void {
  if (apiKey) sessionStorage.setItem(API_KEY_STORAGE_KEY, apiKey);
  else sessionStorage.removeItem(API_KEY_STORAGE_KEY);
}

/** A client for the Tally that served this page (same origin, Connect protocol). */
export function connectToTally(apiKey: string | undefined): Tally {
  return createTallyClient({
    baseUrl: location.origin,
    transport: 'connect',
    headers: { 'x-client-id': CLIENT_ID },
    ...(apiKey ? { apiKey } : {}),
  });
}

/**
 * A transaction id for a submit: 128 random bits. getRandomValues works on plain-HTTP origins
 * too, where crypto.randomUUID does not exist.
 */
export function newTransactionId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `console-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
