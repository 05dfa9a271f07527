// A zone's records: a table that sorts by any column and filters by name and type; for `full`
// zones a form to add and edit records, and deletion after confirmation. Records of a
// `secondary` zone are shown read-only: they are what the primaries transferred.

import { call, enc, errorsOf, page as listPage, query } from './api.js';
import { announce, button, confirmDialog, el, field, formError, input, replace, select, showErrors } from './dom.js';

const TYPES = ['A', 'AAAA', 'CAA', 'CNAME', 'DNAME', 'DS', 'HTTPS', 'MX', 'NAPTR', 'NS', 'PTR', 'SOA', 'SRV', 'SSHFP', 'SVCB', 'TLSA', 'TXT', 'URI'];
const WITH_PRIORITY = ['MX', 'SRV', 'URI'];
const PER_PAGE = 1000;
const COLUMNS = [
  ['type', 'Type'],
  ['name', 'Name'],
  ['content', 'Content'],
  ['ttl', 'TTL'],
  ['priority', 'Priority'],
  ['comment', 'Comment'],
];

/** The section and a function that loads (again) the records shown. */
export function recordsSection(zone, onChange) {
  const view = {
    zone,
    onChange,
    editable: zone.type === 'full',
    records: [],
    info: null,
    sort: { key: 'name', dir: 1 },
    name: '',
    type: '',
    page: 1,
    formHolder: el('div'),
    tableHolder: el('div', { 'aria-live': 'polite', 'aria-busy': 'true' }),
  };
  view.reload = () => load(view);
  const section = el('section', { class: 'card', id: 'records', 'aria-labelledby': 'records-title' },
    el('h2', { id: 'records-title', text: 'Records' }),
    view.editable ? null : el('p', { class: 'hint', text: 'Read-only: this secondary zone holds what its primaries transferred.' }),
    toolbar(view),
    view.formHolder,
    view.tableHolder);
  return { node: section, reload: view.reload };
}

function toolbar(view) {
  const name = input({ type: 'search', id: 'record-filter-name', placeholder: 'part of a name' });
  name.addEventListener('input', () => {
    view.name = name.value.trim().toLowerCase();
    draw(view);
  });
  const type = select([['', 'all types'], ...TYPES.map((t) => [t, t])], { id: 'record-filter-type', value: '' });
  type.addEventListener('change', () => {
    view.type = type.value;
    view.page = 1;
    load(view);
  });
  return el('div', { class: 'toolbar' },
    el('div', { class: 'field' }, el('label', { htmlFor: name.id, text: 'Filter by name' }), name),
    el('div', { class: 'field' }, el('label', { htmlFor: type.id, text: 'Type' }), type),
    view.editable ? button('Add record', () => openForm(view, null), { class: 'primary', id: 'add-record' }) : null);
}

async function load(view) {
  view.tableHolder.setAttribute('aria-busy', 'true');
  const path = `/zones/${enc(view.zone.id)}/dns_records${query({ type: view.type, page: view.page, per_page: PER_PAGE })}`;
  try {
    const { result, info } = await listPage(path);
    view.records = result;
    view.info = info;
    draw(view);
  } catch (e) {
    replace(view.tableHolder, el('p', { class: 'form-error', role: 'alert', text: e.message }));
  }
  view.tableHolder.removeAttribute('aria-busy');
}

function visible(view) {
  const { key, dir } = view.sort;
  const value = (r) => r[key] ?? '';
  return view.records
    .filter((r) => !view.name || r.name.toLowerCase().includes(view.name))
    .sort((a, b) => {
      const x = value(a);
      const y = value(b);
      const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return order * dir || a.name.localeCompare(b.name) || a.type.localeCompare(b.type);
    });
}

function draw(view) {
  const shown = visible(view);
  const total = view.info?.total_count ?? view.records.length;
  const head = COLUMNS.map(([key, label]) => sortHeader(view, key, label));
  if (view.editable) head.push(el('th', { scope: 'col', text: 'Actions' }));
  const rows = shown.map((r) => recordRow(view, r));
  const table = el('table', { id: 'records-table' },
    el('caption', { text: `${shown.length} of ${total} records shown` }),
    el('thead', {}, el('tr', {}, head)),
    el('tbody', {}, rows));
  replace(view.tableHolder, el('div', { class: 'table-wrap' }, table), pager(view));
}

function sortHeader(view, key, label) {
  const current = view.sort.key === key;
  const th = el('th', { scope: 'col', 'aria-sort': current ? (view.sort.dir > 0 ? 'ascending' : 'descending') : 'none' });
  const arrow = current ? (view.sort.dir > 0 ? ' ▲' : ' ▼') : '';
  th.append(button(`${label}${arrow}`, () => {
    view.sort = { key, dir: current ? -view.sort.dir : 1 };
    draw(view);
    view.tableHolder.querySelector(`th[aria-sort]:not([aria-sort="none"]) button`)?.focus();
  }, { class: 'sort', 'aria-label': `Sort by ${label}` }));
  return th;
}

function recordRow(view, record) {
  const cells = [
    record.type,
    record.name,
    el('code', { text: record.content }),
    String(record.ttl),
    record.priority ?? '',
    record.comment ?? '',
  ].map((c) => el('td', {}, c));
  if (view.editable) {
    const label = `${record.type} record ${record.name}`;
    // A zone always has its SOA (PRODUCT §3): it can be edited, never deleted.
    cells.push(el('td', { class: 'actions' },
      button('Edit', () => openForm(view, record), { class: 'small', 'aria-label': `Edit ${label}` }),
      record.type === 'SOA' ? null
        : button('Delete', () => deleteRecord(view, record), { class: 'small danger', 'aria-label': `Delete ${label}` })));
  }
  return el('tr', { 'data-record': record.id }, cells);
}

function pager(view) {
  const pages = view.info?.total_pages ?? 1;
  if (pages <= 1) return null;
  const go = (n) => {
    view.page = n;
    load(view);
  };
  return el('nav', { class: 'pager', 'aria-label': 'Record pages' },
    button('Previous page', () => go(view.page - 1), { disabled: view.page <= 1 }),
    ` Page ${view.page} of ${pages} `,
    button('Next page', () => go(view.page + 1), { disabled: view.page >= pages }));
}

async function deleteRecord(view, record) {
  const sure = await confirmDialog(`Delete the ${record.type} record ${record.name} (${record.content})?`, 'Delete record');
  if (!sure) return;
  try {
    await call('DELETE', `/zones/${enc(view.zone.id)}/dns_records/${enc(record.id)}`);
    announce(`${record.type} record ${record.name} deleted.`);
    await load(view);
    view.onChange();
  } catch (e) {
    announce(`The record was not deleted: ${e.message}`, { error: true });
  }
}

/** The add form (`record` null) or the edit form of `record`, above the table. */
function openForm(view, record) {
  const editing = Boolean(record);
  const inputs = {
    type: select(TYPES.map((t) => [t, t]), { value: record?.type ?? 'A' }),
    name: input({ value: record?.name ?? '', placeholder: '@, www or www.example.com', required: true }),
    content: input({ value: record?.content ?? '', placeholder: '192.0.2.1', required: true }),
    ttl: input({ type: 'number', min: 1, value: String(record?.ttl ?? 300) }),
    priority: input({ type: 'number', min: 0, max: 65535, value: record?.priority ?? '' }),
    comment: input({ value: record?.comment ?? '' }),
  };
  const priorityField = field('Priority', 'priority', inputs.priority, 'MX, SRV and URI');
  const showPriority = () => {
    priorityField.hidden = !WITH_PRIORITY.includes(inputs.type.value);
  };
  inputs.type.addEventListener('change', showPriority);
  showPriority();
  const title = editing ? `Edit ${record.type} record ${record.name}` : 'Add a record';
  const form = el('form', { novalidate: true, class: 'inline-form', id: 'record-form', 'aria-label': title },
    el('h3', { text: title }),
    el('div', { class: 'row' },
      field('Type', 'type', inputs.type),
      field('Name', 'name', inputs.name),
      field('Content', 'content', inputs.content),
      field('TTL', 'ttl', inputs.ttl, '1 = automatic (300)'),
      priorityField,
      field('Comment', 'comment', inputs.comment)),
    formError(),
    el('div', { class: 'actions' },
      el('button', { type: 'submit', class: 'primary', text: editing ? 'Save record' : 'Add record' }),
      button('Cancel', () => closeForm(view))));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    saveRecord(view, form, record, inputs);
  });
  replace(view.formHolder, form);
  inputs[editing ? 'content' : 'name'].focus();
}

function closeForm(view) {
  view.formHolder.replaceChildren();
  document.getElementById('add-record')?.focus();
}

async function saveRecord(view, form, record, inputs) {
  const type = inputs.type.value;
  const body = {
    type,
    name: inputs.name.value.trim(),
    content: inputs.content.value.trim(),
    ttl: inputs.ttl.value === '' ? 1 : Number(inputs.ttl.value),
    comment: inputs.comment.value.trim() || null,
  };
  if (WITH_PRIORITY.includes(type) && inputs.priority.value !== '') body.priority = Number(inputs.priority.value);
  const base = `/zones/${enc(view.zone.id)}/dns_records`;
  try {
    const saved = record
      ? await call('PUT', `${base}/${enc(record.id)}`, body)
      : await call('POST', base, body);
    announce(`${saved.type} record ${saved.name} ${record ? 'saved' : 'added'}.`);
    closeForm(view);
    await load(view);
    view.onChange();
  } catch (e) {
    showErrors(form, errorsOf(e));
  }
}
