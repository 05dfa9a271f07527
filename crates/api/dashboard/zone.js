// One zone's page: its summary, records, zone file import and export, and its zone transfers
// with the serial every linked provider answers.

import { call, enc, errorsOf, text, upload } from './api.js';
import { announce, button, el, field, formError, replace, showErrors } from './dom.js';
import { recordsSection } from './records.js';
import { transfersSection } from './transfers.js';
import { badge, zoneStatus } from './zones.js';

export async function renderZone(page, zoneId, ctx) {
  let zone;
  try {
    zone = await call('GET', `/zones/${enc(zoneId)}`);
  } catch (e) {
    page.append(el('h1', { text: 'Zone' }), el('p', { class: 'form-error', role: 'alert', text: e.message }),
      el('p', {}, el('a', { href: '#/', text: 'Back to the zones' })));
    return;
  }
  document.title = `${zone.name} — Tandem`;
  const summary = el('dl', { class: 'summary', id: 'zone-summary' });
  const refresh = () => showSummary(summary, zone);
  const records = recordsSection(zone, refresh);
  page.append(
    el('p', { class: 'crumbs' }, el('a', { href: '#/', text: 'Zones' }), ' / ', zone.name),
    el('h1', { text: zone.name }),
    summary,
    records.node,
    zoneFileSection(zone, () => {
      records.reload();
      refresh();
    }),
    transfersSection(zone, ctx.account(), refresh),
  );
  await Promise.all([refresh(), records.reload()]);
}

async function showSummary(summary, zone) {
  const item = (term, ...value) => [el('dt', { text: term }), el('dd', {}, ...value)];
  let status;
  try {
    status = await zoneStatus(zone, { fresh: true });
  } catch (e) {
    status = { serial: null, health: [{ level: 'bad', text: e.message }] };
  }
  replace(summary,
    item('Type', zone.type === 'full' ? 'full (Tandem is the primary)' : 'secondary (copied from primaries)'),
    item('Status', zone.status),
    item('Serial', el('span', { id: 'zone-serial', text: status.serial ?? '—' })),
    item('Transfers', ...status.health.map(badge)));
}

function zoneFileSection(zone, onImport) {
  const section = el('section', { class: 'card', 'aria-labelledby': 'zonefile-title', id: 'zonefile' },
    el('h2', { id: 'zonefile-title', text: 'Zone file' }),
    el('p', {}, button('Download zone file', () => download(zone), { id: 'export-zone' }),
      ' RFC 1035 text of every record the zone serves.'));
  if (zone.type === 'full') section.append(importForm(zone, onImport));
  else section.append(el('p', { class: 'hint', text: 'A secondary zone is a copy of its primaries: it is changed by zone transfers, not by imports.' }));
  return section;
}

async function download(zone) {
  try {
    const body = await text(`/zones/${enc(zone.id)}/dns_records/export`);
    const url = URL.createObjectURL(new Blob([body], { type: 'text/plain' }));
    const link = el('a', { href: url, download: `${zone.name}.zone`, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), 10000);
    announce(`Zone file of ${zone.name} downloaded.`);
  } catch (e) {
    announce(`The zone file could not be exported: ${e.message}`, { error: true });
  }
}

function importForm(zone, onImport) {
  const file = el('input', { type: 'file', accept: '.zone,.txt,.db,text/plain', required: true });
  const replaceAll = el('input', { type: 'checkbox', id: 'import-replace' });
  const result = el('p', { class: 'result', 'aria-live': 'polite' });
  const form = el('form', { novalidate: true, 'aria-labelledby': 'import-title', id: 'zone-import' },
    el('h3', { id: 'import-title', text: 'Import' }),
    field('Zone file to import', 'file', file, 'Records the zone lacks are added; an SOA in the file replaces the SOA fields.'),
    el('div', { class: 'check' }, replaceAll, el('label', { htmlFor: 'import-replace', text: 'Replace: make the zone exactly the file' })),
    formError(),
    el('button', { type: 'submit', class: 'primary', text: 'Import zone file' }),
    result);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!file.files.length) {
      showErrors(form, [{ field: 'file', text: 'Choose a zone file first.', message: 'Choose a zone file first.' }]);
      return;
    }
    result.textContent = '';
    try {
      const path = `/zones/${enc(zone.id)}/dns_records/import${replaceAll.checked ? '?replace=true' : ''}`;
      const out = await upload(path, file.files[0]);
      showErrors(form, []);
      result.textContent = `Imported: ${out.recs_added} records added, ${out.total_records_parsed} read from the file.`;
      form.reset();
      onImport();
    } catch (e) {
      // A zone file error names its line, not a form field: it belongs under the file.
      showErrors(form, errorsOf(e).map((err) => ({ field: 'file', text: err.message, message: err.message })));
    }
  });
  return form;
}
