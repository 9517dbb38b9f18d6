/**
 * The few DOM helpers the panels share. Text from the server only ever goes in as text
 * (textContent, attribute values), never as HTML.
 */

export type Child = Node | string | null | undefined | false;
type Attributes = Record<string, string | number | boolean | undefined>;

/** An element with attributes (`true` sets a boolean attribute, `false`/undefined leaves it out). */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  element.append(...children.filter((c): c is Node | string => c !== null && c !== undefined && c !== false));
  return element;
}

/** Replaces an element's children. */
export function fill(parent: Element, ...children: Child[]): void {
  parent.replaceChildren(...children.filter((c): c is Node | string => c !== null && c !== undefined && c !== false));
}

let nextId = 0;
/** A page-unique id for label/description wiring. */
export function uniqueId(prefix: string): string {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

/** A labelled control: `<div class="field"><label for>…</label>control</div>`. */
export function field(label: string, control: HTMLInputElement | HTMLSelectElement, hint?: string): HTMLDivElement {
  control.id ||= uniqueId(control.name || 'field');
  const wrapper = h('div', { class: 'field' }, h('label', { for: control.id }, label), control);
  if (hint) {
    const hintId = uniqueId('hint');
    control.setAttribute('aria-describedby', hintId);
    wrapper.append(h('p', { class: 'hint', id: hintId }, hint));
  }
  return wrapper;
}

export interface Choice {
  readonly value: string;
  readonly label: string;
}

/** A `<select>` named like the request field it fills, with its choices. */
export function select(name: string, choices: readonly Choice[] = [], preferred?: string): HTMLSelectElement {
  const element = h('select', { name });
  setChoices(element, choices, preferred);
  return element;
}

/** Replaces a select's choices, keeping `preferred` chosen when it is among them, else the first. */
export function setChoices(element: HTMLSelectElement, choices: readonly Choice[], preferred?: string): void {
  element.replaceChildren(...choices.map((c) => h('option', { value: c.value }, c.label)));
  element.value = choices.some((c) => c.value === preferred) ? preferred! : (choices[0]?.value ?? '');
}

/** A Date from a protobuf Timestamp (seconds are int64). */
export function dateOf(timestamp: { seconds: bigint; nanos: number } | undefined): Date | undefined {
  return timestamp ? new Date(Number(timestamp.seconds) * 1000 + Math.floor(timestamp.nanos / 1e6)) : undefined;
}

/** `14:03:07`, in the viewer's time zone. */
export function timeOf(timestamp: { seconds: bigint; nanos: number } | undefined): string {
  return dateOf(timestamp)?.toLocaleTimeString(undefined, { hour12: false }) ?? '';
}
