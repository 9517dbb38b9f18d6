import { TallyError } from '@tally/client';
import { fill, h, uniqueId } from './dom.js';
import { describeRefusal } from './refusal.js';

/**
 * How every form of the console submits: one call at a time, its outcome said in the form's
 * status line, a refusal in its alert with each violation next to the field it names.
 */

/** Problems found before calling the server, by form field, said exactly like the server's. */
export class FieldProblems extends Error {
  constructor(readonly byField: Readonly<Record<string, string>>) {
    super(Object.entries(byField).map(([f, p]) => `${f}: ${p}`).join('; '));
  }
}

/** A form's status line (polite) and alert (assertive), created once per form. */
function regions(form: HTMLFormElement): { status: HTMLElement; alert: HTMLElement } {
  let status = form.querySelector<HTMLElement>(':scope > .form-status');
  let alert = form.querySelector<HTMLElement>(':scope > .form-alert');
  if (!status || !alert) {
    status = h('p', { class: 'form-status', role: 'status' });
    alert = h('div', { class: 'form-alert', role: 'alert' });
    form.append(status, alert);
  }
  return { status, alert };
}

export function say(form: HTMLFormElement, text: string): void {
  regions(form).status.textContent = text;
}

/** An outcome the person must notice (an operation that FAILED), in the form's alert. */
export function warn(form: HTMLFormElement, text: string): void {
  fill(regions(form).alert, h('p', {}, text));
}

/**
 * Runs `action` on submit (the button pressed as `submitter`), never twice at once. Buttons
 * stay focusable while busy (aria-disabled rather than disabled), so the keyboard focus does
 * not fall to the page when a call starts.
 */
export function onSubmit(form: HTMLFormElement, action: (submitter: HTMLElement | null) => Promise<void>): void {
  form.noValidate = true; // the server's violations are the reference, said next to each field
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (form.getAttribute('aria-busy') === 'true') return;
    clearProblems(form);
    setBusy(form, true);
    action(event.submitter)
      .catch((error: unknown) => showProblem(form, error))
      .finally(() => setBusy(form, false));
  });
}

function setBusy(form: HTMLFormElement, busy: boolean): void {
  form.setAttribute('aria-busy', String(busy));
  for (const button of form.querySelectorAll('button')) button.setAttribute('aria-disabled', String(busy));
}

export function clearProblems(form: HTMLFormElement): void {
  const { status, alert } = regions(form);
  status.textContent = '';
  fill(alert);
  for (const note of form.querySelectorAll('.field-error')) note.remove();
  for (const control of form.querySelectorAll('[aria-invalid]')) {
    control.removeAttribute('aria-invalid');
    const describedBy = (control.getAttribute('aria-describedby') ?? '').split(' ').filter((id) => id && !id.startsWith('problem-'));
    if (describedBy.length > 0) control.setAttribute('aria-describedby', describedBy.join(' '));
    else control.removeAttribute('aria-describedby');
  }
}

interface Described {
  readonly summary: string;
  readonly byField: ReadonlyMap<string, readonly string[]>;
  readonly requestId?: string | undefined;
}

/** Any failure in words: a refusal from Tally, a problem found here, or something unexpected. */
function describe(error: unknown): Described {
  if (error instanceof TallyError) return describeRefusal(error);
  if (error instanceof FieldProblems) {
    return { summary: 'Please correct the fields marked below.', byField: new Map(Object.entries(error.byField).map(([f, p]) => [f, [p]])) };
  }
  return { summary: `Unexpected failure: ${error instanceof Error ? error.message : String(error)}`, byField: new Map() };
}

function problemNodes(summary: string, unplaced: readonly string[], requestId: string | undefined): Node[] {
  return [
    h('p', {}, summary),
    ...(unplaced.length > 0 ? [h('ul', {}, ...unplaced.map((m) => h('li', {}, m)))] : []),
    ...(requestId ? [h('p', { class: 'request-id' }, `request id ${requestId}`)] : []),
  ];
}

/** A failure outside any form (a list that could not load), said in `region` (an alert). */
export function showFailure(region: HTMLElement, error: unknown): void {
  const { summary, byField, requestId } = describe(error);
  fill(region, ...problemNodes(summary, [...byField].flatMap(([f, ms]) => ms.map((m) => (m.startsWith(f) ? m : `${f}: ${m}`))), requestId));
}

/** Shows a failure of `form`'s call: the summary in its alert, each violation by its field. */
export function showProblem(form: HTMLFormElement, error: unknown): void {
  const { alert } = regions(form);
  const { summary, byField, requestId } = describe(error);
  const unplaced: string[] = [];
  let firstInvalid: HTMLElement | undefined;
  for (const [name, messages] of byField) {
    const control = form.elements.namedItem(name);
    if (!(control instanceof HTMLElement)) {
      unplaced.push(...messages.map((m) => (m.startsWith(name) ? m : `${name}: ${m}`)));
      continue;
    }
    const note = h('p', { class: 'field-error', id: uniqueId('problem') }, messages.join('; '));
    (control.closest('.field') ?? control.parentElement ?? form).append(note);
    control.setAttribute('aria-invalid', 'true');
    control.setAttribute('aria-describedby', `${control.getAttribute('aria-describedby') ?? ''} ${note.id}`.trim());
    firstInvalid ??= control;
  }
  fill(alert, ...problemNodes(summary, unplaced, requestId));
  firstInvalid?.focus();
}
