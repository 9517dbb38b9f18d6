import { StepStatus, isTerminal, isTransient, type Operation } from '@tally/client';
import type { ConsoleApp } from '../app.js';
import { fill, h, timeOf } from '../dom.js';
import { showFailure } from '../forms.js';
import { MAX_LIVE_OPERATIONS, mergeOperation, mergePage } from '../live-operations.js';
import { failureFacts, money, operationTitle, statusName, stepStatusName } from '../operation-text.js';

/** Waits between WatchLedger attempts after a transient failure: doubled each time, capped. */
const WATCH_RETRY_FIRST_MS = 500;
const WATCH_RETRY_MAX_MS = 10_000;

/**
 * The selected ledger's operations as they happen (WatchLedger), newest first, each row
 * updated in place as its status and steps change. A ledger watch may end UNAVAILABLE after
 * a gap in the feed (README, "Watching"): the panel then watches again and reads the recent
 * operations and the balances, so nothing missed stays missed.
 */
export function activityPanel(app: ConsoleApp): HTMLElement {
  const state = h('p', { class: 'stream-state', role: 'status' });
  const problem = h('div', { class: 'form-alert', role: 'alert' });
  const list = h('ol', { class: 'operations', 'aria-labelledby': 'activity-heading' });
  const empty = h('p', { class: 'empty' }, 'No operations on this ledger yet.');
  let operations: readonly Operation[] = [];
  const rows = new Map<string, HTMLLIElement>();
  let watch: AbortController | undefined;

  function show(next: readonly Operation[]): void {
    if (next === operations) return;
    operations = next;
    empty.hidden = operations.length > 0;
    const ledgerId = app.selected?.id ?? '';
    const kept = new Set(operations.map((op) => op.id));
    for (const id of rows.keys()) if (!kept.has(id)) rows.delete(id);
    const ordered = operations.map((op) => {
      let row = rows.get(op.id);
      if (!row) {
        row = h('li', { class: 'operation' });
        rows.set(op.id, row);
      }
      if (row.dataset['version'] !== String(op.version)) drawOperation(app, row, op, ledgerId);
      return row;
    });
    // Rows that stay keep their element, so an update lands in place.
    fill(list, ...ordered);
  }

  function seen(op: Operation): void {
    const before = operations.find((o) => o.id === op.id);
    show(mergeOperation(operations, op));
    if (isTerminal(op.status) && !(before && isTerminal(before.status))) app.emit('balances-stale');
  }

  async function follow(ledgerId: string, signal: AbortSignal): Promise<void> {
    let retryMs = WATCH_RETRY_FIRST_MS;
    while (!signal.aborted) {
      // Each attempt's stream is closed when the attempt ends, whichever way: one watch at a time.
      const attempt = new AbortController();
      const stop = () => attempt.abort();
      signal.addEventListener('abort', stop);
      try {
        state.textContent = 'Connecting…';
        const stream = app.tally.operations.watchLedger({ ledgerId }, { signal: attempt.signal })[Symbol.asyncIterator]();
        const first = stream.next(); // sends the request: the watch is on its way before the list is read
        first.catch(() => undefined); // its failure is read below, or the attempt is over anyway
        const recent = await app.tally.operations.listOperations({ ledgerId, pageSize: MAX_LIVE_OPERATIONS }, { signal: attempt.signal });
        show(mergePage(operations, recent.operations));
        app.emit('balances-stale');
        state.textContent = 'Live: changes appear as they happen.';
        fill(problem);
        for (let next = await first; !next.done; next = await stream.next()) {
          retryMs = WATCH_RETRY_FIRST_MS;
          const event = next.value.event;
          if (event.case === 'operation') seen(event.value);
          else if (event.case === 'balanceChange') app.emit('balances-stale');
        }
      } catch (error) {
        if (signal.aborted) return;
        if (!isTransient(error)) {
          state.textContent = 'Not watching.';
          showFailure(problem, error);
          return;
        }
      } finally {
        signal.removeEventListener('abort', stop);
        attempt.abort();
      }
      // The watch ended or broke (a gap in the feed, the server restarting): watch again.
      state.textContent = `Reconnecting in ${Math.round(retryMs / 100) / 10} s…`;
      await pause(retryMs, signal);
      retryMs = Math.min(retryMs * 2, WATCH_RETRY_MAX_MS);
    }
  }

  app.on('ledger-selected', () => {
    watch?.abort();
    rows.clear();
    operations = [];
    fill(list);
    fill(problem);
    empty.hidden = false;
    const ledger = app.selected;
    if (!ledger) {
      state.textContent = '';
      return;
    }
    watch = new AbortController();
    void follow(ledger.id, watch.signal);
  });
  app.on('operation-seen', (op) => {
    if (op.ledgerId === app.selected?.id || op.toLedgerId === app.selected?.id) seen(op);
  });

  return h(
    'section',
    { class: 'panel activity', 'aria-labelledby': 'activity-heading' },
    h('div', { class: 'panel-head' }, h('h2', { id: 'activity-heading' }, 'Live operations'), state),
    problem,
    empty,
    list,
    h('p', { class: 'hint' }, `The newest ${MAX_LIVE_OPERATIONS} are kept.`),
  );
}

function drawOperation(app: ConsoleApp, row: HTMLLIElement, op: Operation, ledgerId: string): void {
  const status = statusName(op.status);
  row.dataset['version'] = String(op.version);
  row.dataset['status'] = status.toLowerCase();
  const exponentOf = (code: string) => app.exponentOf(code);
  const changes = (op.result?.balanceChanges ?? []).filter((c) => c.ledgerId === ledgerId);
  fill(
    row,
    h(
      'div',
      { class: 'operation-head' },
      h('span', { class: 'operation-title' }, app.submissionWording(op.transactionId) ?? operationTitle(op, ledgerId, exponentOf)),
      h('span', { class: `badge badge-${status.toLowerCase()}` }, status),
    ),
    h('p', { class: 'operation-meta' }, `${timeOf(op.createTime)} · ${op.transactionId}${op.attempts > 1 ? ` · ${op.attempts} attempts` : ''}`),
    op.steps.length > 0 &&
      h(
        'ol',
        { class: 'steps', 'aria-label': 'Steps' },
        ...op.steps.map((step) =>
          h(
            'li',
            { class: `step step-${stepStatusName(step.status).toLowerCase()}` },
            `${step.name} ${step.status === StepStatus.COMPLETED ? '✓' : step.status === StepStatus.FAILED ? '✗' : '…'}`,
          ),
        ),
      ),
    changes.length > 0 &&
      h(
        'p',
        { class: 'operation-changes' },
        changes
          .map((c) => `${c.amount < 0n ? '−' : '+'}${money(c.amount < 0n ? -c.amount : c.amount, c.currency, exponentOf(c.currency))} → ${money(c.balanceAfter, c.currency, exponentOf(c.currency))}`)
          .join(', '),
      ),
    op.error && h('p', { class: 'operation-error' }, `${op.error.code}: ${op.error.message}`),
    op.error && failureFacts(op.error.details, exponentOf) && h('p', { class: 'operation-facts' }, failureFacts(op.error.details, exponentOf)),
  );
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}
