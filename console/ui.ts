import { TfaApiError } from '../client/tfaClient.ts';

/** A small element builder: the console needs no framework. Text is always text, never HTML. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Record<string, string | boolean | ((event: Event) => void)> = {},
  ...children: (Node | string | null | undefined | false)[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) element.setAttribute(name, '');
    else if (value !== false) element.setAttribute(name, value);
  }
  for (const child of children) if (child) element.append(child);
  return element;
}

/** A table with a caption for assistive technology and column headers; rows go in `body`. */
export function dataTable(caption: string, columns: string[]) {
  const body = h('tbody');
  const table = h(
    'table',
    {},
    h('caption', { class: 'visually-hidden' }, caption),
    h('thead', {}, h('tr', {}, ...columns.map((text) => h('th', { scope: 'col' }, text)))),
    body,
  );
  return { table, body };
}

let fieldIds = 0;
/** A labelled field, with a place for the API's message about it. */
export function field<C extends HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>(
  label: string,
  control: C,
) {
  control.id ||= `field-${++fieldIds}`;
  const error = h('p', { class: 'field-error', id: `${control.id}-error` });
  control.setAttribute('aria-describedby', error.id);
  const wrapper = h('div', {}, h('label', { for: control.id }, label), control, error);
  return {
    element: wrapper,
    control,
    setError(message: string) {
      error.textContent = message;
      if (message) control.setAttribute('aria-invalid', 'true');
      else control.removeAttribute('aria-invalid');
    },
  };
}

export function select(options: [string, string][], value: string) {
  const element = h('select');
  for (const [optionValue, text] of options) {
    const option = h('option', { value: optionValue }, text);
    if (optionValue === value) option.selected = true;
    element.append(option);
  }
  return element;
}

/**
 * A form shown and hidden by the button that opens it (its `aria-expanded` says which),
 * focused on `first` when shown; its Close (or Cancel) button hides it and gives the
 * focus back to the opener.
 */
export function disclosure(
  opener: HTMLButtonElement,
  form: HTMLElement,
  first: HTMLElement,
  closeLabel: string,
) {
  const set = (open: boolean) => {
    form.hidden = !open;
    opener.setAttribute('aria-expanded', String(open));
  };
  set(false);
  opener.addEventListener('click', () => {
    set(form.hidden);
    if (!form.hidden) first.focus();
  });
  const close = h('button', { type: 'button', class: 'secondary' }, closeLabel);
  close.addEventListener('click', () => {
    set(false);
    opener.focus();
  });
  form.querySelector('.actions')?.append(close);
  return { hide: () => set(false) };
}

/** Says a result to assistive technology too. */
export function announce(text: string) {
  const announcer = document.getElementById('announcer');
  if (announcer) announcer.textContent = text;
}

/** An area that shows loading, an error, or a result, for one panel. */
export function statusArea() {
  const element = h('div', { 'aria-live': 'polite' });
  return {
    element,
    loading(text = 'Loading…') {
      element.replaceChildren(h('p', {}, text));
    },
    clear() {
      element.replaceChildren();
    },
    ok(text: string) {
      // The area is a live region: this is said once, by it.
      element.replaceChildren(h('p', { class: 'ok' }, text));
    },
    /** An error, or a message already in words. */
    error(error: unknown) {
      const text = typeof error === 'string' ? error : describe(error);
      element.replaceChildren(h('p', { class: 'error', role: 'alert' }, text));
    },
  };
}

/** A moment as support reads it in a table: short, to the second, in the browser's zone. */
export const shortTime = (iso: string) =>
  new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });

/** A due date: the day, and the hour when it is not midnight (dates are set as days). */
export const shortDate = (iso: string) => {
  const at = new Date(iso);
  const midnight = at.getUTCHours() + at.getUTCMinutes() + at.getUTCSeconds() === 0;
  return midnight
    ? at.toLocaleDateString(undefined, { dateStyle: 'medium', timeZone: 'UTC' })
    : shortTime(iso);
};

export const POLICY_OFF = 'The two-factor authentication security policy is disabled.';

export function describe(error: unknown): string {
  if (error instanceof TfaApiError) {
    if (error.code === 'policy_disabled') return POLICY_OFF;
    if (error.code === 'unauthorized')
      return 'The API key is no longer valid: sign out, and sign in with another.';
    // The API's message names the scope the action needs.
    if (error.code === 'forbidden') return `This API key may not do that: ${error.message}.`;
    return `${error.message} (${error.code})`;
  }
  return 'The service could not be reached. Try again.';
}
