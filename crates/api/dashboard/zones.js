// The zones page: every zone of the account with its type, status, serial and transfer health,
// a form to create a `full` or `secondary` zone, and deletion after confirmation.

import { call, enc, errorsOf, optional, page as listPage, query } from './api.js';
import { announce, button, confirmDialog, el, field, formError, input, replace, row, select, showErrors, table } from './dom.js';

/** Zone health lookups run at most this many at once. */
const PARALLEL = 6;

export async function renderZones(page, ctx) {
  document.title = 'Zones — Tandem';
  const account = ctx.account();
  const list = el('div', { 'aria-busy': 'true' }, el('p', { text: 'Loading zones…' }));
  page.append(
    el('h1', { text: 'Zones' }),
    el('section', { 'aria-labelledby': 'zone-list-title' }, el('h2', { id: 'zone-list-title', text: `Zones of ${account.name}` }), list),
    createForm(account, ctx),
  );
  await showList(list, account);
}

function createForm(account, ctx) {
  const name = input({ required: true, placeholder: 'example.com' });
  const type = select([
    ['full', 'full — Tandem is the primary; records are edited here'],
    ['secondary', 'secondary — copied from primary peers by zone transfer'],
  ], { value: 'full' });
  const form = el('form', { novalidate: true, class: 'card', 'aria-labelledby': 'zone-create-title', id: 'zone-create' },
    el('h2', { id: 'zone-create-title', text: 'Create a zone' }),
    el('div', { class: 'row' }, field('Zone name', 'name', name), field('Type', 'type', type)),
    formError(),
    el('button', { type: 'submit', class: 'primary', text: 'Create zone' }));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const zone = await call('POST', '/zones', { name: name.value.trim(), type: type.value, account: { id: account.id } });
      announce(`Zone ${zone.name} created.`);
      ctx.go(`#/zones/${enc(zone.id)}`);
    } catch (e) {
      showErrors(form, errorsOf(e));
    }
  });
  return form;
}

async function showList(holder, account) {
  let zones;
  try {
    ({ result: zones } = await listPage(`/zones${query({ 'account.id': account.id, per_page: 1000 })}`));
  } catch (e) {
    replace(holder, el('p', { class: 'form-error', role: 'alert', text: e.message }));
    return;
  }
  holder.removeAttribute('aria-busy');
  if (!zones.length) {
    replace(holder, el('p', { text: 'No zones yet. Create one below.' }));
    return;
  }
  const rows = zones.map((zone) => zoneRow(zone));
  replace(holder, table('Zones, with the serial each serves and how its transfers are doing',
    ['Zone', 'Type', 'Status', 'Serial', 'Transfers', 'Actions'], rows.map((r) => r.tr), { id: 'zone-table', stacked: true }));
  await inBatches(rows, PARALLEL, (r) => fillHealth(r));
}

function zoneRow(zone) {
  const serial = el('span', { class: 'serial', text: '…' });
  const health = el('span', { text: '…' });
  const remove = button('Delete', null, { class: 'danger small', 'aria-label': `Delete zone ${zone.name}` });
  const tr = row([
    el('a', { href: `#/zones/${enc(zone.id)}`, text: zone.name }),
    zone.type,
    zone.status,
    serial,
    health,
    remove,
  ], { 'data-zone': zone.name });
  remove.addEventListener('click', () => deleteZone(zone, tr));
  return { zone, tr, serial, health };
}

async function deleteZone(zone, tr) {
  const sure = await confirmDialog(
    `Delete zone ${zone.name}? Its records and transfer settings are removed and it is no longer served.`,
    'Delete zone');
  if (!sure) return;
  try {
    await call('DELETE', `/zones/${enc(zone.id)}`);
    tr.remove();
    announce(`Zone ${zone.name} deleted.`);
  } catch (e) {
    announce(`Zone ${zone.name} was not deleted: ${e.message}`, { error: true });
  }
}

async function fillHealth({ zone, serial, health }) {
  try {
    const status = await zoneStatus(zone);
    serial.textContent = status.serial ?? '—';
    replace(health, ...status.health.map(badge));
  } catch (e) {
    replace(health, badge({ level: 'bad', text: e.message }));
  }
}

/**
 * A zone's transfer configurations, `{incoming, outgoing}`, each null when the zone has none.
 * Only those the zone object lists (`secondary_dns`) are asked for, so a zone without one
 * costs no request and no 404. `fresh`: read the zone again first, for a page that stays
 * open while its configurations change.
 */
export async function transferConfigs(zone, { fresh = false } = {}) {
  const id = enc(zone.id);
  const current = fresh ? await call('GET', `/zones/${id}`) : zone;
  const has = current.secondary_dns || {};
  // optional: one removed between the two reads is absent, not an error.
  const [incoming, outgoing] = await Promise.all([
    has.incoming ? optional(`/zones/${id}/secondary_dns/incoming`) : null,
    has.outgoing ? optional(`/zones/${id}/secondary_dns/outgoing`) : null,
  ]);
  return { incoming, outgoing };
}

/** The serial a zone serves and how its transfers are doing, from its configurations. */
export async function zoneStatus(zone, { fresh = false } = {}) {
  const id = enc(zone.id);
  const { incoming, outgoing } = await transferConfigs(zone, { fresh });
  let serial = incoming?.soa_serial ?? outgoing?.soa_serial ?? null;
  if (serial === null && zone.type === 'full') serial = await soaSerial(id);
  const health = [];
  if (zone.type === 'secondary') health.push(incomingHealth(incoming));
  if (zone.type === 'full' || outgoing) health.push(outgoingHealth(outgoing));
  return { serial, health };
}

async function soaSerial(id) {
  const records = await call('GET', `/zones/${id}/dns_records?type=SOA`);
  const fields = records[0]?.content.split(/\s+/) || [];
  return fields.length > 2 ? Number(fields[2]) : null;
}

export function incomingHealth(cfg) {
  if (!cfg) return { level: 'warn', text: 'no primaries configured' };
  const failing = (cfg.peer_status || []).filter((p) => p.last_result && p.last_result !== 'ok');
  switch (cfg.state) {
    case 'ok':
      return failing.length
        ? { level: 'warn', text: `in: ok, ${failing.length} primary failing` }
        : { level: 'ok', text: 'in: ok' };
    case 'pending':
      return { level: 'warn', text: 'in: waiting for the first transfer' };
    case 'expired':
      return { level: 'bad', text: 'in: expired (answering SERVFAIL)' };
    default:
      return { level: 'bad', text: `in: ${cfg.state}${failing[0] ? ` — ${failing[0].last_result}` : ''}` };
  }
}

export function outgoingHealth(cfg) {
  if (!cfg) return { level: 'none', text: 'out: not configured' };
  if (!cfg.enabled) return { level: 'none', text: 'out: off' };
  const n = cfg.peers.length;
  // A NOTIFY superseded by a newer one is still under way, not a failure.
  const failing = (cfg.peer_status || []).filter((p) => p.last_notify_result
    && p.last_notify_result !== 'ok' && !p.last_notify_result.startsWith('superseded'));
  if (!n) return { level: 'warn', text: 'out: on, no secondaries linked' };
  if (failing.length) return { level: 'bad', text: `out: on, ${failing.length} of ${n} not acknowledging NOTIFY` };
  return { level: 'ok', text: `out: on, ${n} secondar${n === 1 ? 'y' : 'ies'}` };
}

/** A health note: its words carry the meaning, the colour only repeats it. */
export function badge({ level, text }) {
  return el('span', { class: `badge ${level}`, text });
}

async function inBatches(items, size, work) {
  const queue = [...items];
  const workers = Array.from({ length: Math.min(size, queue.length) }, async () => {
    while (queue.length) await work(queue.shift());
  });
  await Promise.all(workers);
}
