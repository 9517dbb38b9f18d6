import type { ConsoleApp } from '../app.js';
import { h } from '../dom.js';
import { onSubmit, say } from '../forms.js';

/**
 * The API key, for a Tally with TALLY_AUTH=required. Kept in sessionStorage (this tab only)
 * and sent as `authorization: Bearer <key>` by the client.
 */
export function authForm(app: ConsoleApp): HTMLFormElement {
  const key = h('input', { type: 'password', name: 'api_key', id: 'api-key', autocomplete: 'off', spellcheck: 'false', placeholder: 'tally_…' });
  const forget = h('button', { type: 'button', class: 'quiet' }, 'Forget');
  const form = h(
    'form',
    { class: 'auth', 'aria-label': 'API key' },
    h('label', { for: key.id }, 'API key'),
    key,
    h('button', { type: 'submit', class: 'secondary' }, 'Use key'),
    forget,
  );
  const describe = () => say(form, app.apiKey ? 'Calls carry your API key.' : 'No API key: fine when the server runs with auth off.');
  key.value = app.apiKey ?? '';
  onSubmit(form, async () => {
    app.useApiKey(key.value.trim() || undefined);
    describe();
  });
  forget.addEventListener('click', () => {
    key.value = '';
    app.useApiKey(undefined);
    describe();
  });
  describe();
  return form;
}
