// Building the page. Every text from the API goes in through text nodes (textContent), never
// through an HTML parser, so data is never read as markup.

let nextId = 0;

/** A fresh element id, for label/input and input/error pairs. */
export function uid(prefix) {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

/** Appends children: strings and numbers become text nodes; null, undefined and false are skipped. */
export function append(node, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/**
 * Builds an element. `attrs`: `class`, `text`, `on<event>` handlers, boolean and value
 * properties (`disabled`, `checked`, `hidden`, `value`, ...), anything else as an attribute.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = String(value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key in PROPERTIES) node[PROPERTIES[key]] = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  return append(node, ...children);
}

const PROPERTIES = {
  checked: 'checked',
  disabled: 'disabled',
  hidden: 'hidden',
  required: 'required',
  selected: 'selected',
  value: 'value',
  htmlFor: 'htmlFor',
};

/** Removes every child of `node`, then appends `children`. */
export function replace(node, ...children) {
  node.replaceChildren();
  return append(node, ...children);
}

/**
 * A labelled form field with its own error line. `name` is the API's field name: errors the API
 * reports for it are shown under this field (see showErrors).
 */
export function field(label, name, input, hint) {
  const id = input.id || uid(`f-${name}`);
  input.id = id;
  if (!input.name) input.name = name;
  const error = el('p', { class: 'field-error', id: `${id}-error`, 'data-error-for': name, 'aria-live': 'polite' });
  const described = [error.id];
  let hintNode = null;
  if (hint) {
    hintNode = el('p', { class: 'hint', id: `${id}-hint`, text: hint });
    described.push(hintNode.id);
  }
  input.setAttribute('aria-describedby', described.join(' '));
  return el('div', { class: 'field', 'data-field': name }, el('label', { htmlFor: id, text: label }), input, hintNode, error);
}

/** A text input. */
export function input(attrs = {}) {
  return el('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', ...attrs });
}

/** A select with `options` as [value, label] pairs. */
export function select(options, attrs = {}) {
  const node = el('select', attrs);
  for (const [value, label] of options) {
    node.append(el('option', { value, text: label, selected: value === attrs.value }));
  }
  if (attrs.value !== undefined) node.value = attrs.value;
  return node;
}

/** A button that does not submit its form unless `type: 'submit'` is given. */
export function button(label, onclick, attrs = {}) {
  return el('button', { type: 'button', onclick, ...attrs }, label);
}

/** A form's own error line, for errors that belong to no field (also announced). */
export function formError() {
  return el('p', { class: 'form-error', role: 'alert', 'data-error-for': '' });
}

/** Clears every error shown in `form`. */
export function clearErrors(form) {
  for (const node of form.querySelectorAll('[data-error-for]')) node.textContent = '';
  for (const node of form.querySelectorAll('[aria-invalid]')) node.removeAttribute('aria-invalid');
}

/**
 * Shows each API error next to the field it names (`ip: ...` under the `ip` field, `peers[3]:
 * ...` under `peers`), the rest in the form's own error line. Focuses the first bad field.
 */
export function showErrors(form, errors) {
  clearErrors(form);
  const general = [];
  let first = null;
  for (const { field: name, text, message } of errors) {
    const line = name && form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
    if (!line) {
      general.push(message);
      continue;
    }
    line.textContent = line.textContent ? `${line.textContent} ${text}` : text;
    const control = form.querySelector(`[data-field="${CSS.escape(name)}"] :is(input, select, textarea)`);
    if (control) {
      control.setAttribute('aria-invalid', 'true');
      first = first || control;
    }
  }
  const own = form.querySelector('[data-error-for=""]');
  if (own) own.textContent = general.join(' ');
  if (first) first.focus();
  else if (own && general.length) own.focus?.();
}

/** `2024-05-01T10:00:00Z` as `2024-05-01 10:00:00 UTC`; a dash when absent. */
export function when(iso) {
  if (!iso) return '—';
  const text = String(iso).replace('T', ' ').replace(/(\.\d+)?Z$/, '');
  return el('time', { datetime: iso, text: `${text} UTC` });
}

/** A dash for null and undefined. */
export function orDash(value) {
  return value === null || value === undefined || value === '' ? '—' : String(value);
}

/**
 * A table with a caption; `head`: header labels; `rows`: table rows (see row). With
 * `stacked: true`, a narrow screen shows each row as a block of `label: value` lines instead
 * of columns that run off the screen: every cell carries its column's label, and explicit
 * roles keep it a table for screen readers whatever the layout.
 */
export function table(caption, head, rows, { stacked = false, ...attrs } = {}) {
  const thead = el('thead', {}, el('tr', {}, head.map((h) => (h instanceof Node ? h : el('th', { scope: 'col', text: h })))));
  const tbody = el('tbody', {}, rows);
  const node = el('table', attrs, el('caption', { text: caption }), thead, tbody);
  if (stacked) {
    node.classList.add('stacked');
    const labels = head.map((h) => (h instanceof Node ? h.textContent : String(h)));
    const roles = [['table', 'table'], ['thead, tbody', 'rowgroup'], ['tr', 'row'], ['th', 'columnheader'], ['td', 'cell']];
    node.setAttribute('role', 'table');
    for (const [selector, role] of roles.slice(1)) {
      for (const part of node.querySelectorAll(selector)) part.setAttribute('role', role);
    }
    for (const tr of tbody.children) {
      [...tr.children].forEach((td, i) => {
        td.setAttribute('data-label', labels[i] ?? '');
        // The label and the value are the two columns of a stacked cell: one value node.
        if (td.childNodes.length !== 1) td.append(el('span', {}, ...td.childNodes));
      });
    }
  }
  return el('div', { class: 'table-wrap' }, node);
}

/** A table row from cell contents; a cell may be a node, a string or an array of them. */
export function row(cells, attrs = {}) {
  return el('tr', attrs, cells.map((c) => el('td', {}, c)));
}

/**
 * Asks for confirmation in a modal dialog; resolves true when confirmed. Escape and Cancel
 * answer false; focus returns to where it was.
 */
export function confirmDialog(message, confirmLabel) {
  const before = document.activeElement;
  return new Promise((resolve) => {
    const dialog = el('dialog', { class: 'confirm', 'aria-labelledby': 'confirm-text' });
    const done = (answer) => {
      dialog.close();
      dialog.remove();
      if (before && before.focus) before.focus();
      resolve(answer);
    };
    const cancel = button('Cancel', () => done(false));
    const ok = button(confirmLabel, () => done(true), { class: 'danger' });
    append(dialog, el('p', { id: 'confirm-text', text: message }), el('div', { class: 'actions' }, cancel, ok));
    dialog.addEventListener('cancel', (event) => {
      event.preventDefault();
      done(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

/**
 * Says something to screen-reader users and everyone else in the status line. A failure
 * (`{ error: true }`) is shown in the error colour, not the green of a success; its words say
 * it failed as well.
 */
export function announce(text, { error = false } = {}) {
  const status = document.getElementById('status');
  if (!status) return;
  status.textContent = '';
  status.classList.toggle('error', error);
  // A fresh text node after clearing makes screen readers announce a repeated message too.
  window.setTimeout(() => {
    status.textContent = text;
  }, 30);
}
